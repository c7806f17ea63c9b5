"""Benchmark: sending the reference issue to 2,000 and 10,000 subscribers through a loopback
aiosmtpd sink (its own process), next to a bare smtplib loop over one connection.

Every run is a fresh process (spawned, so its peak RSS is its own): the bare loop sends pre-built
messages (50 personalised copies, cycled) with `smtplib.sendmail`; `nyhetsbrev send` runs the
whole campaign — queueing the audience in the SQLite ledger, then per message the claim
transaction, the substitution, the SMTP transaction and the `sent` record — with the rate limit
off. The bare loop runs before and after the campaigns; the ratio uses their mean, since other
work on the machine moves both.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import resource
import shutil
import smtplib
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ISSUE = "2024-q4"
SIZES = [int(n) for n in os.environ.get("NYHETSBREV_BENCH_SEND", "2000,10000").split(",")]
BARE = int(os.environ.get("NYHETSBREV_BENCH_BARE", "600"))
WARM = 1000  # memory is compared from this message on (caches and pools are warm by then)
ENV = {
    "NYHETSBREV_TODAY": "2024-12-20",
    "SOURCE_DATE_EPOCH": "1735000000",
    "NYHETSBREV_SECRET_KEY": "bench-secret-key-0123456789abcdef",
}


def _sink(ready: Any) -> None:
    """A counting aiosmtpd server on loopback (runs until terminated)."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 2.0.0 Ok: queued"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.put(port)
    while True:
        time.sleep(3600)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare(root: str, port: int, count: int, out: Any) -> None:
    """smtplib.sendmail of pre-built messages over one connection."""
    os.environ.update(ENV)
    from nyhetsbrev.delivery.message import Recipient
    from nyhetsbrev.delivery.prepare import prepare
    from nyhetsbrev.workspace import Workspace

    template = prepare(Workspace(Path(root)), ISSUE).template()
    link = template.unsubscribe_url("AQEAAAAAAcJ7l6HU7Ca1HOiNYFY4iio")
    pool = [template.render(Recipient(f"p{i}@example.no", f"P {i}", link)).data for i in range(50)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail(template.sender.email, [f"p{i}@example.no"], pool[i % len(pool)])
    elapsed = time.perf_counter() - started
    out.put({"rate": count / elapsed, "rss": _rss_mb(), "size": len(pool[0])})


def _campaign(root: str, database: str, port: int, out: Any) -> None:
    """The real thing: start a campaign (queue the audience) and run it, rate limit off."""
    os.environ.update(ENV, NYHETSBREV_SMTP_URL=f"smtp://127.0.0.1:{port}")
    os.environ["NYHETSBREV_DATABASE_URL"] = database
    from nyhetsbrev.delivery import send as steps
    from nyhetsbrev.delivery.campaign import Audience, Limits
    from nyhetsbrev.delivery.prepare import prepare
    from nyhetsbrev.workspace import Workspace

    ws = Workspace(Path(root))
    prepared = prepare(ws, ISSUE)
    prepared.template()
    limits = Limits(rate=0, daily_cap=10**9)
    with steps.open_ledger(ws) as (store, ledger):
        before = _current_rss_mb()
        started = time.perf_counter()
        run = steps.start(prepared, store, ledger, Audience(), limits, new_campaign=False)
        queued = time.perf_counter()
        warm_at = min(WARM, max(1, run.queued // 2))
        warm: list[tuple[float, int]] = []  # (RSS, Python blocks) after the first 1,000
        peak = [0.0]
        count = [0]

        def progress(outcome: str) -> None:
            count[0] += 1
            if count[0] % 250 == 0:  # resident memory every 250 messages
                peak[0] = max(peak[0], _current_rss_mb())
            if count[0] == warm_at:
                warm.append((_current_rss_mb(), sys.getallocatedblocks()))

        run.sender.progress = progress
        summary = run.sender.run()
        done = time.perf_counter()
        blocks = sys.getallocatedblocks()
    out.put({
        "sent": summary.counts["sent"], "queue": queued - started,
        "rate": summary.sent_now / (done - queued), "rss_before": before,
        "warm_at": warm_at, "rss_warm": warm[0][0], "rss_max": peak[0], "blocks_warm": warm[0][1],
        "blocks_end": blocks, "rss_peak": _rss_mb(),
    })  # fmt: skip


def _current_rss_mb() -> float:
    """Resident memory now (Linux /proc; `ru_maxrss` is the peak, which only ever grows)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


def _workspace(base: Path) -> Path:
    """The reference issue, built, with a real-looking public_url."""
    from click.testing import CliRunner

    from nyhetsbrev.cli import main

    root = base / "ws"
    root.mkdir()
    for name in ("newsletters", "templates"):
        shutil.copytree(REPO / name, root / name)
    kom = root / "newsletters" / "kom.yaml"
    text = kom.read_text("utf-8").replace(
        "https://nyhetsbrev.example.org", "https://nyhetsbrev.kom.no"
    )
    kom.write_text(text, "utf-8")
    time.sleep(0.01)
    result = CliRunner().invoke(main, ["--root", str(root), "build", ISSUE], env=ENV)
    assert result.exit_code == 0, result.output
    return root


def _subscribers(database: str, count: int) -> None:
    """`count` subscribed contacts with the nyhetsbrev topic, inserted in bulk."""
    from nyhetsbrev.contacts.model import now
    from nyhetsbrev.contacts.schema.tables import contact_topics, contacts
    from nyhetsbrev.contacts.store import open_store
    from nyhetsbrev.delivery import ledger  # noqa: F401 - registers the ledger's tables

    with open_store(database) as store, store.engine.begin() as conn:
        at = now()
        rows = [
            {"email": f"abonnent{i}@etat{i % 300}.example.no",
             "email_normalised": f"abonnent{i}@etat{i % 300}.example.no",
             "name": f"Åse Øvrebø {i}", "language": "nb", "status": "subscribed",
             "created_at": at, "updated_at": at}
            for i in range(count)
        ]  # fmt: skip
        conn.execute(contacts.insert(), rows)
        ids = conn.execute(contacts.select().with_only_columns(contacts.c.id)).scalars().all()
        conn.execute(
            contact_topics.insert(), [{"contact_id": i, "topic": "nyhetsbrev"} for i in ids]
        )


def _child(context: Any, target: Any, *args: Any) -> dict[str, Any]:
    out = context.Queue()
    process = context.Process(target=target, args=(*args, out))
    process.start()
    while True:
        try:
            result: dict[str, Any] = out.get(timeout=1)
            break
        except queue.Empty:
            if process.exitcode is not None:
                raise RuntimeError(f"{target.__name__} failed (exit {process.exitcode})") from None
    process.join()
    return result


def run() -> list[str]:
    context = mp.get_context("spawn")
    ready = context.Queue()
    sink = context.Process(target=_sink, args=(ready,), daemon=True)
    sink.start()
    lines: list[str] = []
    try:
        port = ready.get(timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            root = _workspace(Path(tmp))
            databases = {}
            for size in SIZES:
                databases[size] = f"sqlite:///{(Path(tmp) / f'list-{size}.sqlite').as_posix()}"
                _subscribers(databases[size], size)
            # bare, campaign, bare, campaign, bare: each campaign is compared with the bare
            # runs just before and after it, so a change in the machine's load moves both
            bare = [_child(context, _bare, str(root), port, BARE)]
            campaigns = {}
            for size in SIZES:
                campaigns[size] = _child(context, _campaign, str(root), databases[size], port)
                bare.append(_child(context, _bare, str(root), port, BARE))
    finally:
        sink.terminate()
        sink.join()
    lines.append(
        f"message: {bare[0]['size'] / 1024:.0f} KB (the reference issue, text + HTML); "
        f"sink: aiosmtpd in its own process on 127.0.0.1"
    )
    lines.append(
        f"bare smtplib loop ({BARE} messages, before, between and after): "
        + " / ".join(f"{b['rate']:.0f}" for b in bare)
        + f" msg/s, peak RSS {max(b['rss'] for b in bare):.0f} MB"
    )
    for index, (size, result) in enumerate(campaigns.items()):
        assert result["sent"] == size, result
        baseline = (bare[index]["rate"] + bare[index + 1]["rate"]) / 2
        lines.append(
            f"nyhetsbrev send, {size:>6,} recipients: {result['rate']:.0f} msg/s "
            f"= {result['rate'] / baseline:.2f} of the bare runs around it; queued in {result['queue']:.1f} s; RSS "
            f"{result['rss_before']:.0f} MB before, {result['rss_warm']:.0f} MB after "
            f"{result['warm_at']:,} messages, at most {result['rss_max']:.0f} MB; Python heap "
            f"blocks then → at the end: {result['blocks_warm']:,} → {result['blocks_end']:,}"
        )
    return lines
