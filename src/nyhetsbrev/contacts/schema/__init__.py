"""The contact database's schema: the current tables, and the migrations that build them."""
