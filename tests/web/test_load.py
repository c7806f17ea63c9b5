"""A bounded load run on loopback: one-click unsubscribes from 8 clients, each applied once.

`make bench` runs the same with 2,000 POSTs against `nyhetsbrev serve` in a subprocess.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.bench.web import applied_once, hammer, one_click_paths
from tests.web.conftest import MailCatcher, Served, open_db

from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.workspace import Workspace

CONTACTS = 300


def test_300_one_click_unsubscribes_from_8_clients_apply_exactly_once(
    workspace: Path, database_url: str
) -> None:
    with open_db(database_url) as store:
        ids = [store.add(f"leser{n}@example.no", actor="load").id for n in range(CONTACTS)]
    paths = one_click_paths(ids)
    app = create_public_app(Workspace(workspace), mailer=MailCatcher(), database_url=database_url)
    with Served(app) as served:
        first = hammer(served.url, paths, clients=8)
        # Mail clients retry: the same links again, in another order, all at once.
        repeats = random.Random(7).sample(paths, 60) * 2
        second = hammer(served.url, repeats, clients=8)
    assert first.errors == [] and second.errors == []
    assert first.statuses == {200: CONTACTS} and second.statuses == {200: 120}
    assert applied_once(database_url, ids) == []
    assert first.percentile(0.95) < 2.0, first.summary()
