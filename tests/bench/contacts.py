"""Benchmark: `contacts import --apply`, `contacts list --format csv` and `contacts export` at
100,000 contacts, each a whole `nyhetsbrev` process (fresh interpreter, its own peak RSS),
interleaved with its baseline in the same run:

- import: a fresh Python process that reads the same CSV with `csv` and `executemany`s the same
  rows into the same four tables (contacts, topics, consent records, `imported` events);
- list: Debian's `sqlite3 -csv` with the same filter and columns;
- export: a fresh Python process running one SQL query for the same 14 columns + `csv.writer`.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.bench.harness import QUICK, Figure, Run, cli, pair, program, python_process

ROWS = int(os.environ.get("NYHETSBREV_BENCH_CONTACTS", "10000" if QUICK else "100000"))
HEADER = ["E-post", "Navn", "Organisasjon", "Sektor", "Språk", "Emner"]
FIRST = ["Kari", "Ola", "Åse", "Bjørn", "Sigrid", "Per", "Ingrid", "Ærlend", "Liv", "Trond"]
LAST = ["Nordmann", "Øvrebø", "Lærum", "Hansen", "Sæther", "Dahl", "Moe", "Berg", "Åsen", "Lie"]
ORGS = ["Politidirektoratet", "Kripos", "UDI", "Kirkens Bymisjon", "Røde Kors", "Helse Sør-Øst"]
SECTORS = ["departement", "direktorat", "politi", "frivillig organisasjon", "internasjonal"]
ASCII_NAMES = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})
TOPICS = ["nyhetsbrev", "nyhetsbrev, rettsavgjorelser", "tilstandsrapport", ""]

# The floor of `import --apply`: read the file, insert what the import writes, nothing else.
BARE_IMPORT = """
import csv, sqlite3, sys
source, database = sys.argv[1:3]
with open(source, encoding="utf-8-sig", newline="") as file:
    rows = list(csv.reader(file, delimiter=";"))[1:]
now = "2024-12-20 10:00:00.000000"
conn = sqlite3.connect(database, isolation_level=None)
conn.execute("PRAGMA synchronous = NORMAL")
conn.execute("BEGIN")
conn.executemany(
    "INSERT INTO contacts (email, email_normalised, name, organisation, sector, language, "
    "status, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'subscribed', NULL, ?, ?)",
    [(r[0], r[0].lower(), r[1], r[2], r[3], r[4], now, now) for r in rows],
)
ids = range(1, len(rows) + 1)
conn.executemany(
    "INSERT INTO contact_topics (contact_id, topic) VALUES (?, ?)",
    [(i, t) for i, r in zip(ids, rows) for t in (r[5] or "nyhetsbrev").split(", ")],
)
conn.executemany(
    "INSERT INTO consents (contact_id, evidence, given_at, source, actor, privacy_notice_version)"
    " VALUES (?, ?, ?, 'import', 'bench', NULL)",
    [(i, f"imported from contacts.csv, line {i + 1}", now) for i in ids],
)
conn.executemany(
    "INSERT INTO events (contact_id, detail, at, kind, actor) VALUES (?, ?, ?, 'imported', 'bench')",
    [(i, f"contacts.csv, line {i + 1} (subscribed)", now) for i in ids],
)
conn.execute("COMMIT")
"""

_TOPICS = "(SELECT group_concat(topic, ', ') FROM contact_topics t WHERE t.contact_id = c.id)"
LIST_SQL = (
    f"SELECT email, name, organisation, sector, language, {_TOPICS}, status, notes, created_at, "
    "updated_at FROM contacts c WHERE status IN ('subscribed') AND EXISTS (SELECT 1 FROM "
    "contact_topics t WHERE t.contact_id = c.id AND t.topic IN ('nyhetsbrev')) ORDER BY c.id"
)
EXPORT_SQL = (
    f"SELECT c.email, c.name, c.organisation, c.sector, c.language, {_TOPICS}, c.status, c.notes,"
    " c.created_at, c.updated_at, k.given_at, k.source, k.evidence, k.privacy_notice_version "
    "FROM contacts c LEFT JOIN consents k ON k.id = "
    "(SELECT max(id) FROM consents WHERE contact_id = c.id) ORDER BY c.id"
)
BARE_EXPORT = f"""
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
with open(sys.argv[2], "w", encoding="utf-8-sig", newline="") as out:
    writer = csv.writer(out, delimiter=";", lineterminator="\\r\\n")
    writer.writerow(["email", "name", "organisation", "sector", "language", "topics", "status",
                     "notes", "created_at", "updated_at", "consent_given_at", "consent_source",
                     "consent_evidence", "privacy_notice_version"])
    writer.writerows(conn.execute({EXPORT_SQL!r}))
"""


def make_csv(path: Path, rows: int) -> None:
    """An Excel-style file (BOM, ";", Norwegian headers)."""
    rng = random.Random(2024)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # as real addresses are: ASCII, æøå spelled out ("Bjørn Lærum" → bjorn.laerum)
            local = f"{first}.{last}.{i}".lower().translate(ASCII_NAMES)
            writer.writerow(
                (f"{local}@etat{i % 700}.example.no", f"{first} {last}", rng.choice(ORGS),
                 rng.choice(SECTORS), rng.choice(["nb", "nb", "nn", "en"]), rng.choice(TOPICS))
            )  # fmt: skip


def _fresh(template: Path, target: Path, measured: Callable[[], Run]) -> Callable[[], Run]:
    """Each run starts from a copy of `template` (the copying is not timed)."""

    def run() -> Run:
        shutil.copyfile(template, target)
        return measured()

    return run


def run() -> Iterator[Figure | str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "contacts.csv"
        make_csv(source, ROWS)
        empty, work, full = folder / "empty.sqlite", folder / "work.sqlite", folder / "full.sqlite"
        root = folder / "ws"
        (root / "newsletters").mkdir(parents=True)

        def env(database: Path) -> dict[str, str]:
            return {
                "NYHETSBREV_DATABASE_URL": f"sqlite:///{database}",
                "NYHETSBREV_ROOT": str(root),
            }

        cli(["contacts", "stats"], env=env(empty))  # an empty database, by the migrations
        shutil.copyfile(empty, full)
        cli(["contacts", "import", str(source), "--apply", "--actor", "bench"], env=env(full))
        yield f"{ROWS:,} contacts; an Excel CSV (BOM, ';', Norwegian headers); SQLite"

        yield pair(
            f"contacts import --apply, {ROWS:,} rows",
            _fresh(empty, work, lambda: cli(
                ["contacts", "import", str(source), "--apply", "--actor", "bench"], env=env(work)
            )),
            "fresh python: csv + executemany, same rows, same 4 tables",
            _fresh(empty, work, lambda: python_process(BARE_IMPORT, [str(source), str(work)])),
            warmup=False,
            goal_ratio=1.6,
            goal_peak_mib=120,
        )  # fmt: skip
        args = ["contacts", "list", "--status", "subscribed", "--topic", "nyhetsbrev"]
        yield pair(
            "contacts list --status subscribed --topic nyhetsbrev --format csv",
            lambda: cli([*args, "--format", "csv"], env=env(full)),
            "sqlite3 -csv, same filter and columns",
            lambda: program(["sqlite3", "-csv", "-header", str(full), LIST_SQL]),
            goal_ratio=3,
            goal_peak_mib=60,
        )
        out = folder / "export.csv"
        yield pair(
            f"contacts export (all {ROWS:,}, 14 columns) to a file",
            _fresh(full, work, lambda: cli(
                ["contacts", "export", str(out), "--actor", "bench"], env=env(work)
            )),
            "fresh python: one SQL query + csv.writer",
            _fresh(full, work, lambda: python_process(BARE_EXPORT, [str(work), str(out)])),
            goal_ratio=1.5,
            goal_peak_mib=60,
        )  # fmt: skip
        yield from _postgres(source)


def _postgres(source: Path) -> Iterator[str]:
    """One import and one listing on PostgreSQL, when NYHETSBREV_TEST_POSTGRES_URL names one."""
    base = os.environ.get("NYHETSBREV_TEST_POSTGRES_URL")
    if not base:
        yield "PostgreSQL: not measured (set NYHETSBREV_TEST_POSTGRES_URL)"
        return
    import uuid

    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    sep = "&" if "?" in base else "?"
    env = {"NYHETSBREV_DATABASE_URL": f"{base}{sep}options=-csearch_path%3D{schema}"}
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        imported = cli(["contacts", "import", str(source), "--apply", "--actor", "bench"], env=env)
        args = ["contacts", "list", "--status", "subscribed", "--topic", "nyhetsbrev"]
        listed = cli([*args, "--format", "csv"], env=env)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    yield (
        f"PostgreSQL (loopback), one run each, whole process: import --apply "
        f"{imported.seconds:.2f} s (peak {imported.peak_mib:.0f} MiB); list --format csv "
        f"{listed.seconds:.2f} s (peak {listed.peak_mib:.0f} MiB)"
    )


if __name__ == "__main__":
    for item in run():
        print("\n".join(item.lines()) if isinstance(item, Figure) else item)
