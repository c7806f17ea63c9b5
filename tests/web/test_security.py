"""The safety nets one by one: rate limiter, CSRF signer, body limit, client keys, languages."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from nyhetsbrev.web.cli import RedactTokens
from nyhetsbrev.web.pages import choose_language, web_labels
from nyhetsbrev.web.security import (
    BodyTooLarge,
    Csrf,
    LimitBody,
    RateLimiter,
    SecurityHeaders,
    address_key,
    client_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_is_a_sliding_window_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(60)
    assert limiter.hit("b") == 0.0  # others are not affected
    clock.now += 30
    assert limiter.hit("a") == pytest.approx(30)  # refused hits do not extend the wait
    clock.now += 30
    assert limiter.hit("a") == 0.0


def test_rate_limiter_forgets_idle_keys_when_full() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 10, clock=clock, max_keys=100)
    for n in range(100):
        limiter.hit(f"old{n}")
    clock.now += 11
    limiter.hit("new")
    assert len(limiter._hits) == 1
    for n in range(150):  # all recent: the oldest half goes, memory stays bounded
        limiter.hit(f"busy{n}")
    assert len(limiter._hits) <= 100


def _request(
    headers: dict[str, str] | None = None,
    client: str = "203.0.113.5",
    path: str = "/",
    scheme: str = "http",
    query: str = "",
) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": raw,
        "query_string": query.encode(),
        "client": (client, 1234),
        "scheme": scheme,
        "server": ("x", 80),
    }
    return Request(scope)


def test_csrf_tokens_are_the_hmac_of_the_cookie() -> None:
    csrf = Csrf(b"k" * 32)
    token, cookie = csrf.token_for(_request())
    assert cookie is not None and len(token) == 64
    with_cookie = _request({"cookie": f"nyhetsbrev-csrf={cookie}"})
    assert csrf.token_for(with_cookie) == (token, None)  # the same browser keeps its token
    assert csrf.is_valid(with_cookie, token)
    assert not csrf.is_valid(with_cookie, token.upper())
    assert not csrf.is_valid(with_cookie, None)
    assert not csrf.is_valid(with_cookie, "é" * 64)
    assert not csrf.is_valid(_request(), token)  # no cookie
    other_key = Csrf(b"o" * 32)
    assert not other_key.is_valid(with_cookie, token)
    planted = _request({"cookie": "nyhetsbrev-csrf=" + "A" * 43})
    assert not csrf.is_valid(planted, token)
    assert Csrf.cookie_name(_request(scheme="https")) == "__Host-nyhetsbrev-csrf"


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("testclient", "testclient"),
    ],
)
def test_client_keys_group_ipv6_by_64(host: str, key: str) -> None:
    assert client_key(_request(client=host)) == key


def test_address_keys_do_not_hold_the_address() -> None:
    assert "kari" not in address_key("kari@example.no")
    assert address_key("kari@example.no") != address_key("ola@example.no")


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("lang=en", "nb", "en"),
        ("lang=xx", "nn", "nn"),
        ("", "nn-NO,nb;q=0.9", "nn"),
        ("", "en-GB,en;q=0.9,nb;q=0.8", "en"),
        ("", "de,en;q=0.5,nb;q=0.7", "nb"),
        ("", "no", "nb"),
        ("", "en;q=0,nn;q=0.1", "nn"),
        ("", "fr, de", "nb"),
        ("", "en;q=bad", "nb"),
        ("", "", "nb"),
    ],
)
def test_language_from_query_then_accept_language(query: str, accept: str, expected: str) -> None:
    request = _request({"accept-language": accept}, query=query)
    assert choose_language(request, "nb") == expected


def test_every_label_exists_in_every_page_language() -> None:
    keys = {lang: set(web_labels(lang)) for lang in ("nb", "nn", "en")}
    assert keys["nb"] == keys["nn"] == keys["en"]
    for lang in ("nb", "nn", "en"):
        for key, text in web_labels(lang).items():
            assert text.strip(), (lang, key)


def _app() -> Starlette:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    async def framed(request: Request) -> Response:
        return PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    async def too_large(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("too large", status_code=413)

    app = Starlette(
        routes=[Route("/", echo, methods=["POST"]), Route("/framed", framed)],
        exception_handlers={BodyTooLarge: too_large},
    )
    app.add_middleware(LimitBody, max_bytes=100)
    app.add_middleware(SecurityHeaders)
    return app


def test_body_limit_declared_and_streamed() -> None:
    with TestClient(_app()) as client:
        assert client.post("/", content=b"x" * 100).text == "100"
        assert client.post("/", content=b"x" * 101).status_code == 413

        def chunks() -> Any:  # no Content-Length: counted while streaming
            for _ in range(5):
                yield b"x" * 30

        assert client.post("/", content=chunks()).status_code == 413


def test_headers_added_unless_the_route_set_its_own() -> None:
    with TestClient(_app()) as client:
        assert client.get("/framed").headers["x-frame-options"] == "SAMEORIGIN"
        assert client.post("/", content=b"").headers["x-frame-options"] == "DENY"


def test_access_log_lines_keep_no_personal_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/unsubscribe/AQIDBAUG?lang=nb", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "POST /unsubscribe/…?lang=nb HTTP/1.1" 200'
