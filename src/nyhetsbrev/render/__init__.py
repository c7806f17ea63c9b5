"""Rendering: Markdown, the one Jinja environment, and each edition (email, text, web, PDF)."""
