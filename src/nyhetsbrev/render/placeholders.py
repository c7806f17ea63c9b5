"""Markers the build leaves in the email for the sending step to fill per recipient.

The email is rendered once per issue; `delivery` replaces these by plain string substitution
(HTML-escaped in the HTML part). They survive MJML and CSS inlining unchanged, and a person
opening build/<id>/email.html sees clearly where the personal link goes.
"""

UNSUBSCRIBE_URL = "[[unsubscribe_url]]"
PREFERENCES_URL = "[[preferences_url]]"
RECIPIENT_EMAIL = "[[recipient_email]]"
ALL = (UNSUBSCRIBE_URL, PREFERENCES_URL, RECIPIENT_EMAIL)
