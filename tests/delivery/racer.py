"""One racer of test_race.py: a separate process that presses send when the starting gun fires.

Each racer is its own machine as far as the ledger knows (`NYHETSBREV_HOSTNAME`), imports
nyhetsbrev once, then for each trial waits on the barrier of that trial's racers and runs the real CLI command
`nyhetsbrev send ISSUE --confirm --allow-warnings --rate=0` against that trial's database.
"""

from __future__ import annotations

import os
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any


def race(
    workspace: str,
    host: str,
    env: dict[str, str],
    jobs: Queue[Any],
    results: Queue[Any],
    guns: dict[int, Barrier],
) -> None:
    os.chdir(workspace)
    os.environ.update(env)
    os.environ["NYHETSBREV_HOSTNAME"] = host
    from click.testing import CliRunner

    import nyhetsbrev.delivery.cli  # noqa: F401  (imported now, not while racing)
    from nyhetsbrev.cli import main

    runner = CliRunner()
    while True:
        job = jobs.get()
        if job is None:
            return
        issue, database, racing = job
        guns[racing].wait()  # the barrier of this trial's racers
        result = runner.invoke(
            main,
            [
                "send",
                issue,
                "--confirm",
                "--allow-warnings",
                "--allow-placeholder-links",
                "--rate=0",
            ],
            env={"NYHETSBREV_DATABASE_URL": database},
        )
        results.put((host, result.exit_code, result.output.strip().splitlines()[-3:]))
