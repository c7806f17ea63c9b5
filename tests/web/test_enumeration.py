"""POST /subscribe must not tell an address's state by its timing (review finding 1).

Every state (new, pending, subscribed, unsubscribed, erased) gets the same answer after the same
work: none. The database and the mail are touched only after the answer has gone out, in a
background task. The tests drive the ASGI app directly, so they can see *when* each store call
happens relative to the last byte of the answer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import anyio
from starlette.testclient import TestClient
from tests.web.conftest import Client, csrf

from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.web.site import Limits

STATES = ("new", "pending", "subscribed", "unsubscribed", "erased")


class CountingStore:
    """The app's real store, with every call it gets written down (name, answered yet?)."""

    def __init__(self, real: ContactStore, answered: Callable[[], bool]) -> None:
        self._real = real
        self._answered = answered
        self.calls: list[tuple[str, bool]] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, self._answered()))
            return value(*args, **kwargs)

        return call


def _prepare(store: ContactStore, run: int) -> dict[str, str]:
    emails = {state: f"{state}.{run}@example.no" for state in STATES}
    store.subscribe_pending(emails["pending"], topics=["nyhetsbrev"], evidence="test")
    store.add(emails["subscribed"], actor="test")
    store.add(emails["unsubscribed"], actor="test")
    unsub = store.get(emails["unsubscribed"])
    assert unsub is not None
    store.unsubscribe(unsub.id, actor="test", source="manual", reason="test")
    store.add(emails["erased"], actor="test")
    store.erase(emails["erased"], actor="test")
    return emails


class Poster:
    """Posts the sign-up form straight to the ASGI app; measures until the answer's last byte."""

    def __init__(self, client: TestClient) -> None:
        page = client.get("/subscribe")
        self.token = csrf(page)
        self.cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        self.app = client.app
        self.answered = False

    async def post(self, email: str) -> tuple[float, int, bytes]:
        body = urlencode(
            {
                "csrf_token": self.token,
                "email": email,
                "name": "Kari",
                "topics": "nyhetsbrev",
                "language": "nb",
                "consent": "yes",
                "website": "",
            }
        ).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/subscribe",
            "raw_path": b"/subscribe",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
                (b"cookie", self.cookie.encode()),
            ],
            "client": ("203.0.113.7", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        sent = False
        chunks: list[bytes] = []
        status = 0
        start = time.perf_counter()
        finished = start

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await anyio.sleep_forever()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    finished = time.perf_counter()
                    self.answered = True

        self.answered = False
        await self.app(scope, receive, send)  # type: ignore[arg-type]
        return finished - start, status, b"".join(chunks)


def test_no_state_touches_the_database_before_the_answer_has_gone_out(
    client: TestClient, store: ContactStore, mails: Any
) -> None:
    emails = _prepare(store, 0)
    poster = Poster(client)
    site = client.app.state.site  # type: ignore[attr-defined]
    counting = CountingStore(site._store, lambda: poster.answered)
    site._store = counting
    seen: dict[str, list[tuple[str, bool]]] = {}
    bodies = set()
    for state, email in emails.items():
        counting.calls.clear()
        _, status, body = anyio.run(poster.post, email)
        assert status == 200
        bodies.add(body.replace(email.encode(), b"EMAIL"))
        seen[state] = list(counting.calls)
    site._store = counting._real
    assert len(bodies) == 1, "the answers differ between states"
    for state, calls in seen.items():
        before = [name for name, answered in calls if not answered]
        assert before == [], f"{state}: store calls before the answer: {before}"
        assert calls, f"{state}: the sign-up was never handled"
    assert store.get(emails["new"]) is not None  # the work was done, afterwards
    assert store.get(emails["erased"]) is None


def test_answer_times_do_not_tell_the_states_apart(make_client: Client, database_url: str) -> None:
    """A statistical check on top of the one above: many interleaved samples per state; the
    medians may differ by noise only (each within the spread of the others), unlike before,
    when the ranges did not even overlap."""
    limits = Limits(subscribe_per_client=10_000, mails_per_address=10_000)
    client = make_client(database_url=database_url, limits=limits)
    store: ContactStore = client.app.state.site.store  # type: ignore[attr-defined]
    samples: dict[str, list[float]] = {state: [] for state in STATES}
    poster = Poster(client)
    anyio.run(poster.post, "warm-up@example.no")
    for run in range(1, 21):  # 20 rounds, each state once per round, interleaved
        emails = _prepare(store, run)
        for state in STATES:
            elapsed, status, _ = anyio.run(poster.post, emails[state])
            assert status == 200
            samples[state].append(elapsed)
    medians = {state: statistics.median(values) for state, values in samples.items()}
    overall = statistics.median(v for values in samples.values() for v in values)
    low, high = min(medians.values()), max(medians.values())
    # Equal work: the medians differ by scheduler noise only, well within half the typical
    # answer time (plus 3 ms for a loaded machine). Unequal work (database writes on some paths
    # only) put them several times apart: new ≈ 21 ms against erased ≈ 2.5 ms here.
    assert high - low <= overall / 2 + 0.003, (medians, overall)
