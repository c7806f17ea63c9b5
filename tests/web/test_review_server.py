"""The server's own limits (review finding 6): slow headers are cut off, idle connections close,
concurrency is bounded. Real uvicorn on loopback, in a thread; every wait is bounded."""

from __future__ import annotations

import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.web.conftest import Served
from tests.web.slowloris import closed_within

from nyhetsbrev.web.cli import bind, server
from nyhetsbrev.web.serving import LIMITS


async def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello\n")


APP = Starlette(routes=[Route("/", hello)])


def test_limits_are_set() -> None:
    config = server(APP, access_log=False).config
    assert config.timeout_keep_alive == LIMITS.keep_alive
    assert config.limit_concurrency == LIMITS.concurrency
    assert config.h11_max_incomplete_event_size == LIMITS.max_head


def test_a_slowloris_client_is_cut_off_after_the_header_timeout(tmp_path: Path) -> None:
    with Served(APP, sock=bind("127.0.0.1", 0), header_timeout=1.0) as served:
        slow = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        with slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            trickle = b"X-Slow: " + b"a" * 200
            took = closed_within(slow, 8.0, trickle)
        assert took is not None, "the slow client was still connected after 8 s"
        assert took < 4.0
        quiet = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        with quiet:  # connects and says nothing at all
            assert closed_within(quiet, 8.0) is not None
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as fine:
            fine.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            for _ in range(50):  # until the server closes (Connection: close), bounded
                chunk = fine.recv(4096)
                if not chunk:
                    break
                answer += chunk
            assert b"hello" in answer  # the server still answers others


def test_a_head_over_the_limit_is_refused_even_when_it_arrives_at_once() -> None:
    with Served(APP, sock=bind("127.0.0.1", 0)) as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
            big = b"X-Big: " + b"a" * (LIMITS.max_head * 2) + b"\r\n\r\n"
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big)
            answer = b""
            for _ in range(50):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer[:60]
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
