"""Benchmark: `bounces import` of 10,000 bounce messages from one mbox, next to reading the same
mbox with the standard library's `mailbox` alone (`python -m tests.bench.bounces`)."""

from __future__ import annotations

import gc
import mailbox
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from click.testing import CliRunner

MESSAGES = int(os.environ.get("NYHETSBREV_BENCH_BOUNCES", "10000"))
RUNS = 5  # interleaved with the stdlib baseline, as every bench figure
MID = "<nyhetsbrev.2024-q4.{:032x}@politiet.no>"
# (status, diagnostic): mostly addresses that are gone, some full mailboxes and delays
KINDS = [
    ("5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found"),
    ("5.2.2", "552 5.2.2 Mailbox full"),
    ("4.4.1", "connect to mx.example.no[192.0.2.1]:25: Connection timed out"),
]


def dsn(number: int) -> bytes:
    """A Postfix-style RFC 3464 report for message `number`, its headers returned."""
    rcpt = f"person{number}@etat{number % 700}.example.no"
    status, said = KINDS[number % len(KINDS)]
    action = "delayed" if status.startswith("4") else "failed"
    boundary = f"B{number:08d}.1736151242/mx1.politiet.no"
    return (
        f"Date: Mon, 06 Jan 2025 09:14:02 +0100\n"
        f"From: MAILER-DAEMON@mx1.politiet.no (Mail Delivery System)\n"
        f"Subject: Undelivered Mail Returned to Sender\nTo: KOM.pod@politiet.no\n"
        f"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n'
        f"Message-Id: <bounce.{number}@mx1.politiet.no>\n\n"
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"This is the mail system at host mx1.politiet.no.\n\n<{rcpt}>: {said.format(rcpt=rcpt)}\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx1.politiet.no\n\n"
        f"Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822;{rcpt}\n"
        f"Action: {action}\nStatus: {status}\nDiagnostic-Code: smtp; {said.format(rcpt=rcpt)}\n\n"
        f"--{boundary}\nContent-Type: text/rfc822-headers\n\n"
        f"From: Nyhetsbrev fra KOM <KOM.pod@politiet.no>\nTo: {rcpt}\n"
        f"Message-ID: {MID.format(number)}\nSubject: Nyhetsbrev fra KOM\n\n"
        f"--{boundary}--\n"
    ).encode()


def make_mbox(path: Path, count: int) -> None:
    with path.open("wb") as out:
        for number in range(1, count + 1):
            out.write(b"From MAILER-DAEMON Mon Jan  6 09:14:02 2025\n" + dsn(number) + b"\n")


def make_database(url: str, count: int) -> None:
    """A list of `count` contacts, each sent campaign 1 with the Message-ID its bounce names."""
    import nyhetsbrev.bounces.schema  # noqa: F401  (the bounce table's migrations)
    from nyhetsbrev.contacts.schema.tables import contacts
    from nyhetsbrev.contacts.store import open_store
    from nyhetsbrev.delivery.schema import campaigns, deliveries

    at = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(
            contacts.insert(),
            [
                {
                    "id": n,
                    "email": f"person{n}@etat{n % 700}.example.no",
                    "email_normalised": f"person{n}@etat{n % 700}.example.no",
                    "language": "nb",
                    "status": "subscribed",
                    "created_at": at,
                    "updated_at": at,
                }
                for n in range(1, count + 1)
            ],
        )
        conn.execute(
            campaigns.insert().values(
                id=1,
                issue_id="2024-q4",
                build_hash="0" * 64,
                subject="Nyhetsbrev fra KOM",
                audience="{}",
                attach_pdf=False,
                status="finished",
                queued=True,
                created_at=at,
                updated_at=at,
            )
        )
        conn.execute(
            deliveries.insert(),
            [
                {
                    "campaign_id": 1,
                    "contact_id": n,
                    "status": "sent",
                    "attempts": 1,
                    "hard_bounce": False,
                    "message_id": MID.format(n),
                    "updated_at": at,
                    "sent_at": at,
                }
                for n in range(1, count + 1)
            ],
        )


def stdlib_read(path: Path) -> int:
    """The floor: every message of the mbox parsed by `mailbox` (no matching, no database)."""
    box = mailbox.mbox(path, create=False)
    count = sum(1 for _ in box)
    box.close()
    return count


def bounces_import(root: Path, path: Path) -> str:
    from nyhetsbrev.cli import main

    env = {"NYHETSBREV_ROOT": str(root), "NYHETSBREV_ACTOR": "bench"}
    result = CliRunner().invoke(
        main, ["bounces", "import", str(path), "--apply"], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _keep(output: list[str], root: Path, box: Path) -> None:
    output.append(bounces_import(root, box))


def timed(action: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def peak_memory(action: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def fresh(folder: Path, count: int, name: str) -> tuple[Path, Path]:
    """A workspace with its list and ledger, and an mbox of `count` bounces."""
    root = folder / name
    (root / "newsletters").mkdir(parents=True)
    (root / "contacts").mkdir()
    make_database(f"sqlite:///{(root / 'contacts' / 'contacts.sqlite').as_posix()}", count)
    box = folder / f"{name}.mbox"
    make_mbox(box, count)
    return root, box


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="nyhetsbrev-bench-bounces-") as tmp:
        folder = Path(tmp)
        imports, floors = [], []
        box = folder / "none"
        for attempt in range(RUNS):
            root, box = fresh(folder, MESSAGES, f"ws{attempt}")
            floors.append(timed(partial(stdlib_read, box)))
            output: list[str] = []
            imports.append(timed(partial(_keep, output, root, box)))
        summary = next(line for line in output[0].splitlines() if line.startswith("Recorded"))
        size = box.stat().st_size
        small_root, small_box = fresh(folder, MESSAGES // 5, "small")
        small = peak_memory(lambda: bounces_import(small_root, small_box))
        big_root, big_box = fresh(folder, MESSAGES, "big")
        big = peak_memory(lambda: bounces_import(big_root, big_box))
    median, floor = statistics.median(imports), statistics.median(floors)
    return [
        f"bounces: import --apply of {MESSAGES:,} bounce messages from one mbox "
        f"({size / 2**20:.1f} MiB) into SQLite, each matched by Message-ID (goal: < 10 s)",
        f"  bounces import --apply  median {median:5.2f} s   runs {_runs(imports)}",
        f"  stdlib mailbox alone    median {floor:5.2f} s   runs {_runs(floors)}",
        f"  ratio                          {median / floor:5.1f} ×",
        f"  {summary}",
        f"  peak memory (tracemalloc): {small / 2**20:.0f} MiB for {MESSAGES // 5:,} messages, "
        f"{big / 2**20:.0f} MiB for {MESSAGES:,} (the mbox: {size / 2**20:.0f} MiB)",
    ]


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    print("\n".join(run()))
