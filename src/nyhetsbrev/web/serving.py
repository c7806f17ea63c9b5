"""The HTTP server's own limits: header and idle timeouts, concurrency, header size.

uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`), caps the
head of a request (`h11_max_incomplete_event_size`) and answers 503 past `limit_concurrency`
connections and tasks, but has no timeout for a request that arrives slowly: a client that sends
a header byte every few seconds (slowloris) kept a connection open forever. `TimedH11Protocol`
gives every request `header_timeout` seconds from the connection (or the previous response) to
arrive complete, head and body; then the connection is closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState


@dataclass(frozen=True)
class ServerLimits:
    """The defaults suit one small server behind a reverse proxy (docs/operations.md)."""

    header_timeout: float = 10.0  # seconds for a whole request (head and body) to arrive
    keep_alive: int = 5  # seconds an idle connection stays open after a response
    concurrency: int = 200  # connections + tasks at once; past it, 503
    max_head: int = 16 * 1024  # bytes of a request's head (line and headers)


LIMITS = ServerLimits()
_READING = (h11.IDLE, h11.SEND_BODY)


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive."""

    header_timeout: float = LIMITS.header_timeout
    max_head: int = LIMITS.max_head

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, object],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._head = bytearray()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_too_large(data):
            self._disarm()
            self.send_400_response(f"Request head over {self.max_head} bytes")
            return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head.clear()
        if self.conn.their_state not in _READING:  # the request is in: the app's turn
            self._disarm()

    def _head_too_large(self, data: bytes) -> bool:
        """h11 checks its limit only on a head still incomplete in its buffer: one that arrives
        whole in one read passes at any size. So the head's bytes are counted here, up to the
        blank line that ends it (what follows is the body)."""
        self._head += data[: max(0, self.max_head + 8 - len(self._head))]
        end = self._head.find(b"\r\n\r\n")
        size = len(self._head) if end < 0 else end + 4
        return size > self.max_head

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state in _READING:
            self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol(header_timeout: float) -> type[TimedH11Protocol]:
    """The protocol class with its own header timeout (uvicorn takes a class)."""
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": header_timeout})
