"""Bounces: read non-delivery reports (files or IMAP), match them to deliveries, apply policy."""
