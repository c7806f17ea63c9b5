"""Sending an issue: signed tokens, the MIME message, the SMTP transport and the campaign ledger."""
