"""The database connection: SQLite (WAL, foreign keys, real transactions) or any SQLAlchemy URL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine

from nyhetsbrev.errors import ContactsError

#: How long a SQLite writer waits for another one before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 15_000


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite itself has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every timestamp must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, parse the stored text once per distinct value (an import writes one
        timestamp for thousands of rows) straight into an aware datetime."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        cache: dict[str, datetime] = {}

        def process(value: str | datetime | None) -> datetime | None:
            if value is None or isinstance(value, datetime):
                return self.process_result_value(value, dialect)
            found = cache.get(value)
            if found is None:
                if len(cache) >= 4096:
                    cache.clear()
                found = cache[value] = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return found

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def states_check(column: str, states: type[StrEnum]) -> str:
    """The CHECK constraint text that allows `column` only the values of `states`."""
    return f"{column} IN ({', '.join(repr(str(state.value)) for state in states)})"


def _sqlite_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file (and its folder) is created on first use.

    SQLite connections get WAL journaling, enforced foreign keys, secure delete (erased data is
    overwritten, not left in free pages), a busy timeout, a Unicode-aware
    `lower()` (so searching for "Ærlig" finds "ærlig"), and SQLAlchemy-controlled transactions:
    pysqlite's own implicit BEGIN is switched off and replaced by an explicit `BEGIN` (or
    `BEGIN IMMEDIATE` for writers, see `write_transaction`), which also makes DDL transactional.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ContactsError(
            f'"{url}" is not a database URL — write e.g. sqlite:///contacts/contacts.sqlite or '
            "postgresql+psycopg://user@host/dbname in NYHETSBREV_DATABASE_URL"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return sa.create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ContactsError(
                f"the database driver for {parsed.drivername} is not installed ({exc.name}) — "
                "for PostgreSQL run: pip install 'nyhetsbrev[postgres]'"
            ) from None
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        dbapi_connection.create_function("lower", 1, _sqlite_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA cache_size = -16000")  # 16 MB: big imports touch many pages
            cursor.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten with zeros, not left in free pages: erasure is real.
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed at the end, rolled back on any exception.

    On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front, so what the
    transaction reads stays true until it commits (no "database is locked" half-way through).
    """
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn
    except sa.exc.OperationalError as exc:
        if "database is locked" in str(exc.orig):
            raise ContactsError(
                "the contact database is busy: another nyhetsbrev command is writing to it — "
                "wait for it to finish and run this command again"
            ) from None
        raise


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: one consistent snapshot of the list."""
    with engine.connect() as conn, conn.begin():
        yield conn


def flush_deleted(engine: Engine) -> None:
    """After an erasure: make sure no copy of deleted rows stays in the database's files.

    SQLite: checkpoint the write-ahead log into the database (where secure delete has zeroed
    the rows) and truncate it, since old page images in the log still hold the data. If another
    process is in the middle of reading, the checkpoint waits at most a second and the old pages
    stay in the log until the next checkpoint (at the latest when the last connection closes).
    PostgreSQL: VACUUM the contact tables, so dead row versions are pruned and their space
    reused (backups and the server's own WAL archive are outside our reach; see the docs).
    """
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction, as checkpoints must be
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA busy_timeout = 1000")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
        finally:
            raw.close()
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM contacts, contact_topics, consents, events")


def insert_many(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    same: dict[str, Any] | None = None,
    batch: int = 20_000,
) -> None:
    """Insert `rows` (tuples in `columns` order) with the driver's own `executemany`.

    `same` holds values shared by every row (e.g. the one timestamp of an import): each goes
    through its column type's bind processor once. The statement is compiled once. This skips
    SQLAlchemy's per-row parameter handling, which costs more than SQLite's insert itself.
    On PostgreSQL with psycopg 3, the rows go in with COPY, many times faster than INSERTs.
    """
    if not rows:
        return
    dialect = conn.dialect
    shared = same or {}
    names = [*columns, *shared]
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in columns]
    if any(processors):  # a type that needs converting per value: the general, slower way
        rows = [
            tuple(
                v if p is None or v is None else p(v) for p, v in zip(processors, row, strict=True)
            )
            for row in rows
        ]
    constants = tuple(_bind(table.c[name], dialect, value) for name, value in shared.items())
    params = [row + constants for row in rows] if constants else list(rows)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, table, names, params)
        return
    placeholder = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if placeholder is None:  # a driver with named or numbered parameters
        statement = table.insert().values({name: sa.bindparam(name) for name in names})
        sql = str(statement.compile(dialect=dialect))
        params = [dict(zip(names, row, strict=True)) for row in params]  # type: ignore[misc]
    else:
        quote = dialect.identifier_preparer
        sql = (
            f"INSERT INTO {quote.format_table(table)} "
            f"({', '.join(quote.quote(name) for name in names)}) "
            f"VALUES ({', '.join([placeholder] * len(names))})"
        )
    for start in range(0, len(params), batch):
        conn.exec_driver_sql(sql, params[start : start + batch])


def _copy(conn: Connection, table: sa.Table, names: list[str], rows: list[Any]) -> None:
    """PostgreSQL: COPY … FROM STDIN, in the connection's transaction (psycopg 3)."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    driver_connection: Any = conn.connection.driver_connection
    statement = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _bind(column: sa.Column[Any], dialect: Dialect, value: Any) -> Any:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None or value is None else process(value)


def display_url(engine: Engine) -> str:
    """The database URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)
