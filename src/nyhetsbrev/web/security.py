"""Web safety nets: security headers, signed double-submit CSRF tokens, rate limits, body limits."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What every page may load: only its own files; no inline script, no plugins, no framing.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
#: Sent with every response unless the route set its own value for the header.
DEFAULT_HEADERS: dict[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: adds `DEFAULT_HEADERS` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.headers = dict(DEFAULT_HEADERS if headers is None else headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """A request body over the limit; the app answers 413 with a page saying so."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


class LimitBody:
    """ASGI middleware: a request body over `max_bytes` (declared or streamed) raises
    `BodyTooLarge` when the app reads it, before the excess is buffered anywhere."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class Csrf:
    """Signed double-submit CSRF tokens.

    The browser holds a random value in a cookie (HttpOnly, SameSite=Strict); every form carries
    an HMAC of that value under the site's key. A POST is accepted only when the form's token is
    the HMAC of the cookie it arrived with: another site can neither read the cookie nor compute
    the HMAC, and a planted cookie is useless without the key.
    """

    FIELD = "csrf_token"

    def __init__(self, key: bytes) -> None:
        self._key = hmac.new(key, b"nyhetsbrev/web/csrf/v1", hashlib.sha256).digest()

    @staticmethod
    def cookie_name(request: Request) -> str:
        # The __Host- prefix makes browsers refuse the cookie from subdomains or over plain HTTP.
        return "__Host-nyhetsbrev-csrf" if request.url.scheme == "https" else "nyhetsbrev-csrf"

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode("ascii"), hashlib.sha256).hexdigest()

    def token_for(self, request: Request) -> tuple[str, str | None]:
        """The form token for this browser, and a new cookie value to set (None: keep its own)."""
        current = request.cookies.get(self.cookie_name(request), "")
        if _COOKIE_VALUE.match(current):
            return self._sign(current), None
        fresh = secrets.token_urlsafe(32)
        return self._sign(fresh), fresh

    def set_cookie(self, response: Response, request: Request, value: str) -> None:
        response.set_cookie(
            self.cookie_name(request),
            value,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    def is_valid(self, request: Request, submitted: object) -> bool:
        """True when `submitted` (the form's field) is the HMAC of the request's cookie."""
        cookie = request.cookies.get(self.cookie_name(request), "")
        if not isinstance(submitted, str) or not _COOKIE_VALUE.match(cookie):
            return False
        return hmac.compare_digest(
            submitted.encode("ascii", "replace"), self._sign(cookie).encode()
        )


class RateLimiter:
    """At most `limit` events per `window` seconds for each key (a sliding window, in memory).

    In memory means per process: run the public app as one process (it is light), or the limit
    applies per worker.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one event for `key`: 0.0 if allowed, else the seconds until it would be."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._prune(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return 0.0

    def _prune(self, now: float) -> None:
        stale = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:  # all recent: forget the oldest half
            for key in sorted(self._hits, key=lambda k: self._hits[k][-1])[: self._max_keys // 2]:
                del self._hits[key]


def client_key(request: Request) -> str:
    """Who is asking, for rate limits: the client's address (after trusted proxies), with IPv6
    grouped by /64, since one household or server usually holds a whole /64."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def address_key(email_normalised: str) -> str:
    """A rate-limit key for an email address that does not keep the address in memory."""
    return hashlib.sha256(b"nyhetsbrev/web/address|" + email_normalised.encode()).hexdigest()


#: The names a browser uses for this machine; a page elsewhere cannot make its own Host one.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def host_name(header: str) -> str:
    """The name in a Host header, without the port, lower-cased (`[::1]` keeps its brackets)."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end > 0 else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AllowedHosts:
    """ASGI middleware: answers 400 to a request whose Host is not one of `hosts`.

    Against DNS rebinding: a page on the internet can point its own name at 127.0.0.1 and so
    reach a loopback server from the editor's browser, but the browser then sends that name as
    Host. (Starlette's TrustedHostMiddleware cuts `[::1]:8025` at the first colon.)
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str] = LOOPBACK_HOSTS) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        name = host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else ""
        if name in self.hosts:
            await self.app(scope, receive, send)
            return
        response = Response(
            "Host not allowed: open the preview at http://127.0.0.1 or http://localhost\n",
            status_code=400,
            media_type="text/plain",
            headers=DEFAULT_HEADERS,
        )
        await response(scope, receive, send)


def host_literal(address: str) -> str:
    """An address as it appears in a Host header: IPv6 in brackets."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address.lower()
