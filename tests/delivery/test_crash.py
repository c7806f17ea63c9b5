"""Crashes and interruptions: `nyhetsbrev send --confirm` as a real process, killed and resumed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.delivery.conftest import ISSUE, Sink, database, wait_for

from nyhetsbrev.contacts.store import open_store

pytestmark = pytest.mark.slow


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "nyhetsbrev",
        "send",
        ISSUE,
        "--allow-warnings",
        "--allow-placeholder-links",
        *args,
    ]
    return subprocess.Popen(
        command,
        cwd=root,
        env=dict(os.environ),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def ledger_rows(root: Path) -> dict[str, tuple[str, str | None]]:
    """address → (delivery status, Message-ID) of the issue's only campaign."""
    from nyhetsbrev.delivery.ledger import Ledger

    with open_store(database(root)) as store:
        ledger = Ledger(store.engine)
        [campaign] = ledger.campaigns()
        assert campaign.status == "finished"
        return {row.email: (row.status, row.message_id) for row in ledger.report_rows(campaign.id)}


def test_killed_at_random_points_and_resumed_everyone_gets_it_once(
    send_ws: Path, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(200)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    smtp_sink.delay = 0.003  # a window between the server's receipt and its 250
    kills, outputs = 0, []
    mode = "--confirm"
    while True:
        before = smtp_sink.count()
        process = start(send_ws, mode, "--rate", "0")
        if kills < 5:
            target = before + rng.randint(5, 35)

            def reached(target: int = target, process: subprocess.Popen[str] = process) -> bool:
                return smtp_sink.count() >= target or process.poll() is not None

            wait_for(reached, 60)
            if process.poll() is None:
                time.sleep(rng.uniform(0, 0.005))  # anywhere in a transaction, or between two
                process.send_signal(signal.SIGKILL)
                kills += 1
            outputs.append(process.communicate(timeout=30)[0])
            mode = "--resume"
            continue
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 0, f"seed {seed}:\n{output}"
        break
    assert kills == 5, f"seed {seed}: {outputs}"
    rows = ledger_rows(send_ws)
    received = smtp_sink.per_recipient()
    ids_received = {r.message["Message-ID"] for r in smtp_sink.received}
    assert len(rows) == 200
    uncertain = {address for address, (status, _) in rows.items() if status == "uncertain"}
    for address, (status, message_id) in rows.items():
        if status == "uncertain":  # reported: it may or may not have arrived, never twice
            assert received.get(address, 0) <= 1, (seed, address)
        else:
            assert status == "sent", (seed, address, status)
            assert received[address] == 1, (seed, address)  # exactly once, none lost
            assert message_id in ids_received
    assert sum(received.values()) == len(smtp_sink.received) <= 200
    assert set(received) <= set(rows)
    if uncertain:
        assert (
            f"Uncertain (may or may not have arrived; sent again only with "
            f"--resend-uncertain): {len(uncertain)}" in output
        )


def test_ctrl_c_stops_after_the_message_in_flight(
    send_ws: Path, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    from nyhetsbrev.delivery.ledger import Ledger

    contacts(20)
    smtp_sink.delay = 0.25  # each transaction takes a while: Ctrl-C lands in one
    process = start(send_ws, "--confirm", "--rate", "0")
    wait_for(lambda: smtp_sink.count() >= 3)
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 130, output
    assert "Stopping after the message in flight… (Ctrl-C again to stop at once)" in output
    assert "Traceback" not in output
    got = smtp_sink.count()
    assert (
        f"Stopped: {20 - got} not yet sent. To continue, run: nyhetsbrev send 2024-q4 "
        "--resume --rate=0 --allow-warnings" in output
    )
    with open_store(database(send_ws)) as store:
        ledger = Ledger(store.engine)
        [campaign] = ledger.campaigns()
        assert (campaign.status, campaign.note) == ("paused", "stopped on request (Ctrl-C)")
        counts = ledger.counts(campaign.id)
    assert counts["sent"] == got  # the message in flight was finished and recorded
    assert counts["sending"] == counts["uncertain"] == 0
    smtp_sink.delay = 0
    resumed = start(send_ws, "--resume", "--rate", "0")
    assert resumed.communicate(timeout=60)[0]
    assert resumed.returncode == 0
    assert sorted(smtp_sink.per_recipient().values()) == [1] * 20
