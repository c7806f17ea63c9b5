"""What erasing a contact does outside the contact list: rules other subsystems declare, and hooks.

The contact list knows nothing of the subsystems built on it (imports point down the floors), yet
`erase` must reach every row that names a contact. So a subsystem that keeps such rows (the sending
ledger) declares them in one of its own migrations:

    declare_personal_table(conn, "deliveries", "contact_id", clear=("last_reply", "message_id"))

The declaration is a row in the contact list's `erasure_rules` table. Erasing reads those rows, so
every process that erases — `nyhetsbrev contacts erase`, which never imports the sending code, as
well as the web app — sets the contact column to NULL and clears the named columns, inside the
erasure transaction, before the contact is deleted. For what a rule cannot describe, a subsystem
may also register an in-process hook (`register_erasure_hook`); hooks run only in processes that
imported their module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.contacts.schema.tables import erasure_rules

ErasureHook = Callable[[Connection, Contact], None]
_erasure_hooks: list[ErasureHook] = []
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")


def register_erasure_hook(hook: ErasureHook) -> None:
    """Call `hook(conn, contact)` inside the erasure transaction, before the contact is deleted."""
    if hook not in _erasure_hooks:
        _erasure_hooks.append(hook)


def unregister_erasure_hook(hook: ErasureHook) -> None:
    """Forget a hook registered before (tests; a subsystem that is switched off)."""
    if hook in _erasure_hooks:
        _erasure_hooks.remove(hook)


def declare_personal_table(
    conn: Connection, table: str, contact_column: str, *, clear: Sequence[str] = ()
) -> None:
    """Record (in a migration step) that `table.contact_column` names a contact: erasing that
    contact sets it to NULL and clears the `clear` columns. Declaring a table again replaces
    its rule."""
    names = [table, contact_column, *clear]
    bad = [name for name in names if not _NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"not a plain lower-case SQL name: {', '.join(map(repr, bad))}")
    conn.execute(erasure_rules.delete().where(erasure_rules.c.table_name == table))
    conn.execute(
        erasure_rules.insert().values(
            table_name=table, contact_column=contact_column, clear_columns=" ".join(clear)
        )
    )


def erase_elsewhere(conn: Connection, contact: Contact) -> None:
    """Run every hook, then anonymise every declared table's rows about `contact`."""
    for hook in _erasure_hooks:
        hook(conn, contact)
    rules = conn.execute(sa.select(erasure_rules).order_by(erasure_rules.c.table_name)).all()
    inspector = sa.inspect(conn)
    for rule in rules:
        if not inspector.has_table(rule.table_name):  # declared, then dropped by its owner
            continue
        cleared = [rule.contact_column, *rule.clear_columns.split()]
        table = sa.table(rule.table_name, *(sa.column(name) for name in cleared))
        conn.execute(
            table.update()
            .where(table.c[rule.contact_column] == contact.id)
            .values({name: None for name in cleared})
        )
