"""The web side: the editor's live preview and the public archive, sign-up and unsubscribe app."""
