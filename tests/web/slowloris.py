"""A slowloris client for the server-limit tests: holds a connection open, trickling bytes."""

from __future__ import annotations

import socket
import time


def closed_within(
    sock: socket.socket, seconds: float, trickle: bytes = b"", step: float = 0.25
) -> float | None:
    """Seconds until the server closes `sock` (None if it did not within `seconds`); meanwhile
    one byte of `trickle` every `step` seconds, as a slowloris client does. Bounded by
    `seconds`, whatever the server does."""
    start = time.monotonic()
    sock.settimeout(step)
    sent = 0
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - start
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
            sent += 1
    return None
