"""Benchmark: importing and listing 100,000 contacts, next to a bare sqlite3 executemany."""

from __future__ import annotations

import csv
import os
import random
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from nyhetsbrev.contacts.importing import ImportOptions, run_import
from nyhetsbrev.contacts.queries import ContactFilter
from nyhetsbrev.contacts.store import open_store

ROWS = int(os.environ.get("NYHETSBREV_BENCH_CONTACTS", "100000"))
RUNS = 3
HEADER = ["E-post", "Navn", "Organisasjon", "Sektor", "Språk", "Emner"]
FIRST = ["Kari", "Ola", "Åse", "Bjørn", "Sigrid", "Per", "Ingrid", "Ærlend", "Liv", "Trond"]
LAST = ["Nordmann", "Øvrebø", "Lærum", "Hansen", "Sæther", "Dahl", "Moe", "Berg", "Åsen", "Lie"]
ORGS = ["Politidirektoratet", "Kripos", "UDI", "Kirkens Bymisjon", "Røde Kors", "Helse Sør-Øst"]
SECTORS = ["departement", "direktorat", "politi", "frivillig organisasjon", "internasjonal"]
ASCII_NAMES = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})
TOPICS = ["nyhetsbrev", "nyhetsbrev, rettsavgjorelser", "tilstandsrapport", ""]


def make_csv(path: Path, rows: int) -> list[tuple[str, ...]]:
    """An Excel-style file (BOM, ";", Norwegian headers); returns its rows for the baseline."""
    rng = random.Random(2024)
    data: list[tuple[str, ...]] = []
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        # as real addresses are: ASCII, æøå spelled out ("Bjørn Lærum" → bjorn.laerum)
        local = f"{first}.{last}.{i}".lower().translate(ASCII_NAMES)
        email = f"{local}@etat{i % 700}.example.no"
        data.append(
            (email, f"{first} {last}", rng.choice(ORGS), rng.choice(SECTORS),
             rng.choice(["nb", "nb", "nn", "en"]), rng.choice(TOPICS))
        )  # fmt: skip
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(data)
    return data


def bare_insert(path: Path, rows: list[tuple[str, ...]], *, everything: bool) -> float:
    """The floor: plain sqlite3 `executemany` of the same rows into the same schema.

    `everything`: the rows an import writes (contacts, their topics, consent records and
    `imported` events); else the contacts alone.
    """
    with open_store(f"sqlite:///{path.as_posix()}"):
        pass  # the schema, by the migrations
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        now = "2024-12-20 10:00:00.000000"
        contacts = [
            (r[0], r[0].lower(), r[1], r[2], r[3], r[4], "subscribed", None, now, now) for r in rows
        ]
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO contacts (email, email_normalised, name, organisation, sector, language, "
            "status, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            contacts,
        )
        if everything:
            ids = range(1, len(rows) + 1)
            topics = [
                (i, t)
                for i, r in zip(ids, rows, strict=True)
                for t in (r[5] or "nyhetsbrev").split(", ")
            ]
            conn.executemany("INSERT INTO contact_topics (contact_id, topic) VALUES (?, ?)", topics)
            conn.executemany(
                "INSERT INTO consents (contact_id, evidence, given_at, source, actor, "
                "privacy_notice_version) VALUES (?, ?, ?, 'import', 'bench', NULL)",
                [(i, f"imported from contacts.csv, line {i + 1}", now) for i in ids],
            )
            conn.executemany(
                "INSERT INTO events (contact_id, detail, at, kind, actor) "
                "VALUES (?, ?, ?, 'imported', 'bench')",
                [(i, f"contacts.csv, line {i + 1} (subscribed)", now) for i in ids],
            )
        conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run() -> list[str]:
    """Import and list ROWS contacts; the figures as printable lines."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "contacts.csv"
        rows = make_csv(source, ROWS)
        options = ImportOptions(actor="bench")
        imports: list[float] = []
        floor: list[float] = []
        floor_contacts: list[float] = []
        for attempt in range(RUNS):
            floor.append(bare_insert(folder / f"bare{attempt}.sqlite", rows, everything=True))
            floor_contacts.append(
                bare_insert(folder / f"barec{attempt}.sqlite", rows, everything=False)
            )
            with open_store(f"sqlite:///{(folder / f'db{attempt}.sqlite').as_posix()}") as store:
                imports.append(
                    timed(lambda: run_import(store, source, "contacts.csv", options, apply=True))
                )
        url = f"sqlite:///{(folder / 'db0.sqlite').as_posix()}"
        counts: list[int] = []
        with open_store(url) as store:
            dry = timed(lambda: run_import(store, source, "contacts.csv", options, apply=False))
            again = timed(lambda: run_import(store, source, "contacts.csv", options, apply=True))
            audience = ContactFilter(statuses=["subscribed"], topics=["nyhetsbrev"])
            listing = [
                timed(lambda: counts.append(sum(1 for _ in store.query(audience))))
                for _ in range(RUNS)
            ]
            search = ContactFilter(search="øvrebø")
            searching = timed(lambda: counts.append(sum(1 for _ in store.query(search))))
        env = {"NYHETSBREV_DATABASE_URL": url, "NYHETSBREV_ROOT": str(_workspace(folder))}
        args = ["contacts", "list", "--status", "subscribed", "--topic", "nyhetsbrev"]
        cli = [timed(lambda: _cli([*args, "--format", "csv"], env)) for _ in range(RUNS)]
        with open_store(f"sqlite:///{(folder / 'memory.sqlite').as_posix()}") as store:
            tracemalloc.start()
            run_import(store, source, "contacts.csv", options, apply=True)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()

        postgres = _postgres(source, options)

    median, bare, bare_contacts = (statistics.median(x) for x in (imports, floor, floor_contacts))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"contacts: machine: {os.cpu_count()} CPUs, load average {load} (wall-clock times below)",
        f"contacts: import of a {ROWS:,}-row CSV (Excel: BOM, ';', Norwegian headers) into SQLite",
        f"  import --apply        median {median:5.2f} s   runs {_runs(imports)}",
        f"  bare sqlite3, same rows      {bare:5.2f} s   runs {_runs(floor)}"
        "  (contacts, topics, consents, events)",
        f"  ratio                        {median / bare:5.1f} ×",
        f"  bare sqlite3, contacts only  {bare_contacts:5.2f} s   ratio {median / bare_contacts:.1f} ×",
        f"  peak memory (tracemalloc)    {peak / 2**20:5.0f} MiB",
        f"  dry run {dry:.2f} s; the same file again, nothing to change: {again:.2f} s",
        f"contacts: list --status subscribed --topic nyhetsbrev ({counts[0]:,} of {ROWS:,})",
        f"  store.query           median {statistics.median(listing):5.2f} s   runs {_runs(listing)}",
        f"  CLI, --format csv     median {statistics.median(cli):5.2f} s   runs {_runs(cli)}",
        f"  list --search øvrebø: {counts[-1]:,} contacts in {searching:.2f} s",
        *postgres,
    ]


def _postgres(source: Path, options: ImportOptions) -> list[str]:
    """The same import and listing on PostgreSQL, when NYHETSBREV_TEST_POSTGRES_URL names one."""
    base = os.environ.get("NYHETSBREV_TEST_POSTGRES_URL")
    if not base:
        return ["contacts: PostgreSQL: not measured (set NYHETSBREV_TEST_POSTGRES_URL)"]
    import uuid

    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        with open_store(f"{base}{sep}options=-csearch_path%3D{schema}") as store:
            seconds = timed(lambda: run_import(store, source, "contacts.csv", options, apply=True))
            audience = ContactFilter(statuses=["subscribed"], topics=["nyhetsbrev"])
            listing = timed(lambda: sum(1 for _ in store.query(audience)))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    return [
        f"contacts: PostgreSQL (loopback): import --apply {seconds:.2f} s (COPY); "
        f"list with the filter {listing:.2f} s"
    ]


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def _cli(args: list[str], env: dict[str, str]) -> None:
    from nyhetsbrev.cli import main

    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _workspace(folder: Path) -> Path:
    root = folder / "ws"
    (root / "newsletters").mkdir(parents=True, exist_ok=True)
    return root


if __name__ == "__main__":
    print("\n".join(run()))
