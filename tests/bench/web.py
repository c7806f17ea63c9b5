"""Benchmark: one-click unsubscribes against `nyhetsbrev serve` on loopback, and preview rebuilds.

The load run starts the real command in a subprocess, gives 2,000 contacts their signed links,
and sends one RFC 8058 POST per contact from 8 client threads (keep-alive connections), then
checks the database: every contact unsubscribed, with exactly one `unsubscribed` event.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.contacts.tokens import make_token
from tests.bench.harness import QUICK, Figure, Run, pair

REPO = Path(__file__).resolve().parent.parent.parent
POSTS = int(os.environ.get("NYHETSBREV_BENCH_UNSUBSCRIBES", "500" if QUICK else "2000"))
RUNS = 5 if QUICK else 11
CLIENTS = 8
SECRET = "bench-secret-key-0123456789abcdef"
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class LoadResult:
    """What a load run saw: seconds per request, answers by status, and what went wrong."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> list[str]:
        count = len(self.latencies)
        return [
            f"{count} one-click POSTs from {CLIENTS} clients in {self.seconds:.2f} s: "
            f"{count / self.seconds:.0f} requests/s",
            f"latency p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p95 {self.percentile(0.95) * 1000:.1f} ms, max {max(self.latencies) * 1000:.1f} ms",
            f"answers {dict(self.statuses)}, errors {len(self.errors)}"
            + (f" (first: {self.errors[0]})" if self.errors else ""),
        ]


def hammer(base_url: str, paths: list[str], clients: int = CLIENTS) -> LoadResult:
    """POST `List-Unsubscribe=One-Click` to every path, spread over `clients` threads."""
    result = LoadResult()
    lock = threading.Lock()
    shares = [paths[n::clients] for n in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(share: list[str]) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            start.wait()
            for path in share:
                began = time.perf_counter()
                try:
                    answer = http.post(path, content=ONE_CLICK, headers=FORM)
                    status, problem = answer.status_code, None
                    if status != 200 or "location" in answer.headers:
                        problem = f"{path}: {status}"
                except httpx.HTTPError as exc:
                    status, problem = 0, f"{path}: {type(exc).__name__}: {exc}"
                took = time.perf_counter() - began
                with lock:
                    result.latencies.append(took)
                    result.statuses[status] += 1
                    if problem:
                        result.errors.append(problem)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def add_contacts(store: ContactStore, count: int) -> list[int]:
    return [store.add(f"leser{n}@example.no", actor="bench").id for n in range(count)]


def one_click_paths(ids: list[int]) -> list[str]:
    return [f"/unsubscribe/{make_token('unsubscribe', contact_id)}" for contact_id in ids]


def applied_once(database_url: str, ids: list[int]) -> list[str]:
    """Problems, if any: a contact not unsubscribed, or with other than one `unsubscribed` event."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            statuses = dict(conn.execute(sa.text("SELECT id, status FROM contacts")).all())
            events = Counter(
                conn.execute(
                    sa.text("SELECT contact_id FROM events WHERE kind = 'unsubscribed'")
                ).scalars()
            )
    finally:
        engine.dispose()
    problems = [f"#{i} is {statuses.get(i)}" for i in ids if statuses.get(i) != "unsubscribed"]
    problems += [f"#{i} has {events[i]} unsubscribed events" for i in ids if events[i] != 1]
    return problems


def workspace(folder: Path) -> Path:
    for name in ("newsletters", "templates"):
        shutil.copytree(REPO / name, folder / name, symlinks=True)
    (folder / "contacts").mkdir()
    (folder / "build").mkdir()
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(root: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NYHETSBREV_SECRET_KEY": SECRET,
        "NYHETSBREV_DATABASE_URL": database_url,
        "NYHETSBREV_SMTP_URL": "smtp://127.0.0.1:9",  # never used by unsubscribes
    }
    command = [sys.executable, "-m", "nyhetsbrev", "--root", str(root), "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("nyhetsbrev serve did not start") from None
            time.sleep(0.1)


def load_run(database_url: str, label: str) -> list[str]:
    os.environ["NYHETSBREV_SECRET_KEY"] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp))
        url = database_url or f"sqlite:///{(root / 'contacts' / 'contacts.sqlite').as_posix()}"
        with open_store(url) as store:
            ids = add_contacts(store, POSTS)
        paths = one_click_paths(ids)
        port = free_port()
        process = serve(root, url, port)
        try:
            result = hammer(f"http://127.0.0.1:{port}", paths)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        problems = applied_once(url, ids)
    lines = [f"{label}: {line}" for line in result.summary()]
    lines.append(
        f"{label}: applied exactly once: "
        + ("yes, all " + str(len(ids)) if not problems else f"NO: {problems[:3]}")
    )
    return lines


def scaled_issue(root: Path, times: int) -> None:
    """Make the workspace's 2024-q4 an issue `times` the reference: its sections repeated (as
    text, so the YAML stays as an editor writes it), each copy's titles numbered."""
    path = root / "newsletters" / "2024-q4" / "issue.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("sections:")) + 1
    last = next(i for i, line in enumerate(lines) if i > first and not line.startswith((" ", "\n")))
    block = lines[first:last]
    copies = [
        line.rstrip("\n") + f" ({n + 1})\n"
        if line.startswith("  - title: ") else line
        for n in range(times)
        for line in block
    ]  # fmt: skip
    path.write_text("".join(lines[:first] + copies + lines[last:]), "utf-8")


def preview_rebuilds(times: int, goal_ms: float) -> Iterator[Figure | str]:
    """Save → rebuild in the preview: the file changes on disk, then the Previewer rebuilds it
    (load, check, email, text and web, as the browser's reload receives them)."""
    from nyhetsbrev.web.rebuild import Previewer
    from nyhetsbrev.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp))
        if times > 1:
            scaled_issue(root, times)
        issue = root / "newsletters" / "2024-q4" / "issue.yaml"
        original = issue.read_text("utf-8")
        previewer = Previewer(Workspace(root), "2024-q4")
        previewer.build()
        saves = [0]
        snapshots = []

        def save_and_rebuild() -> Run:
            saves[0] += 1  # an edit the issue sees: the closing line changes
            issue.write_text(original.replace("i 2025!", f"i 2025 ({saves[0]})!"), "utf-8")
            started = time.perf_counter()
            snapshots.append(previewer.build())
            return Run(time.perf_counter() - started)

        size = "the reference issue" if times == 1 else f"an issue {times}× the reference"
        figure = pair(
            f"preview save → rebuild, {size}", save_and_rebuild, "", None,
            runs=RUNS, goal_seconds=goal_ms / 1000,
        )  # fmt: skip
        last = snapshots[-1]
        assert not last.problems and last.email_html, last.problems  # it really rendered
        figure.note = f"email part {statistics.median(s.email_ms for s in snapshots):.0f} ms"
        yield figure
        if times == 1:
            started = time.perf_counter()
            previewer.pdf(last)
            yield f"preview PDF on demand: {(time.perf_counter() - started) * 1000:.0f} ms (1 run)"


def run() -> Iterator[Figure | str]:
    yield from load_run("", "SQLite")
    postgres = os.environ.get("NYHETSBREV_TEST_POSTGRES_URL")
    if postgres:
        yield from load_run(fresh_postgres(postgres), "PostgreSQL")
    yield from preview_rebuilds(1, 100)
    yield from preview_rebuilds(20, 400)


def fresh_postgres(base: str) -> str:
    """A new, empty schema in the test server for this run (dropped at exit)."""
    import atexit
    import uuid

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    atexit.register(drop)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    for item in run():
        print("\n".join(item.lines()) if isinstance(item, Figure) else item)
