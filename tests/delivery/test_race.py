"""Exactly once, whoever presses send: 2, 4 and 8 processes (each its own "host") run
`nyhetsbrev send --confirm` at the same instant, again and again, on SQLite and on PostgreSQL;
the real SMTP server on loopback counts the messages each recipient got.

The racers are spawned once for the module (importing nyhetsbrev takes a second each) and wait
on a barrier per trial; every trial gets a fresh database with the same recipients.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from tests.conftest import POSTGRES_ENV
from tests.delivery import racer
from tests.delivery.conftest import ISSUE, ISSUE_ENV, SECRET, Sink, free_port

from nyhetsbrev.contacts.store import open_store

RECIPIENTS = 12
TRIALS = ((2, 4), (4, 3), (8, 3))  # (processes, repeats): 10 trials per database, 20 in all
RACERS = max(n for n, _ in TRIALS)
LOSER = re.compile(
    r"Error: (campaign \d+ for 2024-q4 is being sent by \S+@racer-\d+ since \d\d:\d\d; wait, "
    r"or stop it there \(`nyhetsbrev campaigns` shows it\)"
    r"|nothing to send: all \d+ recipient\(s\) already received 2024-q4; .*)$"
)


@dataclass
class Pool:
    sink: Sink
    jobs: list[Any]
    results: Any


@pytest.fixture(scope="module")
def pool(built_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    root = tmp_path_factory.mktemp("race") / "ws"
    shutil.copytree(built_workspace, root)
    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith("NYHETSBREV_")},
        **ISSUE_ENV,
        "NYHETSBREV_SMTP_URL": sink.url,
        "NYHETSBREV_SECRET_KEY": SECRET,
        "NYHETSBREV_ACTOR": "anne",
    }
    env.pop("NYHETSBREV_DATABASE_URL", None)
    context = multiprocessing.get_context("spawn")
    guns = {n: context.Barrier(n) for n, _ in TRIALS}
    jobs: list[Any] = [context.Queue() for _ in range(RACERS)]
    results: Any = context.Queue()
    racers = [
        context.Process(
            target=racer.race,
            args=(str(root), f"racer-{n}", env, jobs[n], results, guns),
            daemon=True,
        )
        for n in range(RACERS)
    ]
    for process in racers:
        process.start()
    try:
        yield Pool(sink, jobs, results)
    finally:
        for queue in jobs:
            queue.put(None)
        for process in racers:
            process.join(timeout=30)
        controller.stop()


class Databases:
    """A fresh database per trial: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder = kind, folder
        self.base = os.environ.get(POSTGRES_ENV, "")
        self.schemas: list[str] = []
        if kind == "postgres" and not self.base:
            pytest.skip(f"{POSTGRES_ENV} not set: no PostgreSQL server to test against")

    def fresh(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{(self.folder / f'race-{uuid.uuid4().hex[:8]}.sqlite').as_posix()}"
        schema = f"race_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(self.base)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self.schemas.append(schema)
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{schema}"

    def drop(self) -> None:
        if not self.schemas:
            return
        engine = sa.create_engine(self.base)
        with engine.begin() as conn:
            for schema in self.schemas:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(request.param, tmp_path)
    yield made
    made.drop()


def test_racing_senders_send_each_message_once(pool: Pool, databases: Databases) -> None:
    trials: list[dict[str, Any]] = []
    for processes, repeats in TRIALS:
        for _ in range(repeats):
            database = databases.fresh()
            with open_store(database) as store:
                for i in range(RECIPIENTS):
                    store.add(f"person{i}@example.no", actor="test", name=f"Person {i}")
            with pool.sink.lock:
                pool.sink.received.clear()
            for queue in pool.jobs[:processes]:
                queue.put((ISSUE, database, processes))
            outcomes = [pool.results.get(timeout=120) for _ in range(processes)]
            trials.append(
                {
                    "processes": processes,
                    "outcomes": outcomes,
                    "per_recipient": pool.sink.per_recipient(),
                }
            )
    assert len(trials) == 10
    for trial in trials:
        counts = trial["per_recipient"]
        assert sorted(counts.values()) == [1] * RECIPIENTS, trial  # everyone once, nobody twice
        codes = sorted(code for _, code, _ in trial["outcomes"])
        assert codes == [0] + [1] * (trial["processes"] - 1), trial
        for _, code, last in trial["outcomes"]:
            if code:
                assert LOSER.match(last[-1]), last


def test_the_database_holds_the_guarantee(database_url: str) -> None:
    """Without any check before it: a second open campaign of an issue and audience is refused
    by the unique index, and a claim never sends to a contact who is sent, sending or uncertain
    for the same issue in another campaign (here: two audiences that overlap)."""
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.schema import Outcome

    with open_store(database_url) as store:
        ids = [store.add(f"p{i}@example.no", actor="test").id for i in range(3)]
        ledger = Ledger(store.engine)
        everyone = {"topics": ["nyhetsbrev"], "sectors": [], "languages": [], "again": False}
        first = ledger.create(ISSUE, "h", "s", everyone, False, "a@one:1")
        assert first is not None
        assert ledger.create(ISSUE, "h", "s", everyone, False, "b@two:2") is None
        other = ledger.create(
            ISSUE, "h", "s", {**everyone, "sectors": ["politi"]}, False, "b@two:2"
        )
        assert other is not None
        for campaign in (first, other):
            ledger.add_recipients(campaign.id, ids)
        mine = list(ledger.pending(first.id))
        theirs = list(ledger.pending(other.id))
        assert ledger.claim(mine[0], "<m0@x>", first.id) is not None  # sending in campaign 1
        ledger.record(Outcome(mine[0].id, "sent", 250, "250 ok"))
        assert ledger.claim(mine[1], "<m1@x>", first.id) is not None  # still sending
        assert ledger.claim(theirs[0], "<t0@x>", other.id) is None
        assert ledger.claim(theirs[1], "<t1@x>", other.id) is None
        assert ledger.claim(theirs[2], "<t2@x>", other.id) is not None  # nobody else has p2
        ledger.close()
        rows = {r.contact_id: (r.status, r.last_reply) for r in ledger.report_rows(other.id)}
        assert rows[ids[0]] == ("skipped", f"sent in campaign {first.id} of the same issue")
        assert rows[ids[1]] == ("skipped", f"sending in campaign {first.id} of the same issue")
        assert rows[ids[2]][0] == "sending"
        # finished campaigns do not count: a new one for the same audience may start
        ledger.set_status(first.id, "finished")
        assert ledger.create(ISSUE, "h", "s", everyone, False, "c@three:3") is not None
