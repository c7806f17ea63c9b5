"""The contact list: who receives KOM's mailings, their consent, and the commands that keep it."""
