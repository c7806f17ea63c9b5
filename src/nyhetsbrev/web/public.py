"""`nyhetsbrev serve`'s app: the archive and feed, sign-up, confirm, unsubscribe, preferences."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from nyhetsbrev.brand import load_brand
from nyhetsbrev.contacts import tokens
from nyhetsbrev.delivery.transport import SmtpSettings
from nyhetsbrev.errors import WebError
from nyhetsbrev.issue.load import load_masthead, load_publication
from nyhetsbrev.issue.localized import resolve
from nyhetsbrev.issue.model import ISSUE_ID, Publication
from nyhetsbrev.theme import default_theme, find_theme
from nyhetsbrev.web import links, signup
from nyhetsbrev.web.archive import CACHE, Archive
from nyhetsbrev.web.mail import Mailer, SmtpMailer
from nyhetsbrev.web.pages import LANGUAGES, Pages
from nyhetsbrev.web.security import DEFAULT_HEADERS, BodyTooLarge, Csrf, LimitBody, SecurityHeaders
from nyhetsbrev.web.site import Limits, Site, TokenRejected
from nyhetsbrev.workspace import Workspace

log = logging.getLogger("nyhetsbrev.web")
STATIC = Path(__file__).resolve().parent / "static"
BOTH = ["GET", "POST"]  # and HEAD, which Starlette answers like GET without the body
Endpoint = Callable[[Request], Awaitable[Response]]
ROBOTS = "User-agent: *\nDisallow: /confirm/\nDisallow: /unsubscribe/\nDisallow: /preferences/\n"


def publication_for_serving(ws: Workspace) -> Publication:
    """The publication, which must be valid and say where the app is reachable (`public_url`)."""
    _, path, publication, findings = load_publication(ws)
    if publication is None:
        listed = "\n".join(f.format() for f in findings if f.level == "error")
        raise WebError(f"{listed}\nfix the publication file, then start the app again")
    if not publication.public_url:
        raise WebError(
            f"{ws.relative(path)}: `public_url` is not set, but the confirmation and unsubscribe "
            "links must point at this app: set it to the address readers use, e.g. "
            "public_url: https://nyhetsbrev.example.org"
        )
    return publication


def mastheads(ws: Workspace) -> dict[str, Publication]:
    """The publication in each page language, for pages in the reader's language."""
    _, _, raw, _, _ = load_masthead(ws)
    return {code: resolve(raw, code)[0] for code in LANGUAGES} if raw is not None else {}


def check_proxies(trusted: Sequence[str]) -> list[str]:
    """Each `--trusted-proxy` must be an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)."""
    for value in trusted:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise WebError(
                f'--trusted-proxy "{value}" is not an IP address or network: give the reverse '
                "proxy's address as it connects to this app, e.g. 127.0.0.1 or 10.0.0.0/24"
            ) from None
    return list(trusted)


def create_public_app(
    ws: Workspace,
    *,
    trusted_proxies: Sequence[str] = (),
    limits: Limits | None = None,
    mailer: Mailer | None = None,
    database_url: str | None = None,
) -> Starlette:
    """The public app of a workspace. Fails at once on missing settings (secret key, SMTP,
    `public_url`), not at a reader's first sign-up."""
    publication = publication_for_serving(ws)
    theme = find_theme(ws, publication.theme)
    token_key = tokens.secret_key(ws.token_scope)
    if mailer is None:
        mailer = SmtpMailer(SmtpSettings.from_env(), publication.sender)
    limits = limits or Limits()
    csrf = Csrf(token_key)
    site = Site(
        publication=publication,
        pages=Pages(theme, publication, csrf, mastheads=mastheads(ws)),
        archive=Archive(ws.build_dir, publication),
        database_url=database_url or ws.database_url(),
        public_url=str(publication.public_url),
        csrf=csrf,
        token_key=token_key,
        mailer=mailer,
        limits=limits,
    )
    theme_css = theme.file("web.css")
    if not theme_css.is_file():
        theme_css = default_theme().file("web.css")

    # The brand's colours as :root properties, then the theme's CSS (read once, at start).
    css = load_brand(theme.path).css_variables() + theme_css.read_text(encoding="utf-8")

    async def stylesheet(request: Request) -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": CACHE})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(site.open)
        try:
            yield
        finally:
            await run_in_threadpool(site.close)

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/index.html", home, methods=["GET"]),
            Route("/feed.xml", feed, methods=["GET"]),
            Route("/robots.txt", robots, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/static/theme.css", stylesheet, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
            Route("/subscribe", form(signup.subscribe_form, signup.subscribe), methods=BOTH),
            Route("/confirm/{token}", form(signup.confirm_page, signup.confirm), methods=BOTH),
            Route(
                "/unsubscribe/{token}",
                form(links.unsubscribe_page, links.unsubscribe),
                methods=BOTH,
            ),
            Route(
                "/preferences/{token}",
                form(links.preferences_page, links.preferences),
                methods=BOTH,
            ),
            Route("/{issue_id}", issue_redirect, methods=["GET"]),
            Route("/{issue_id}/", issue_index, methods=["GET"]),
            Route("/{issue_id}/{name}", issue_file, methods=["GET"]),
        ],
        middleware=[
            Middleware(ProxyHeadersMiddleware, trusted_hosts=check_proxies(trusted_proxies)),
            Middleware(SecurityHeaders),
            Middleware(LimitBody, max_bytes=limits.max_body),
        ],
        exception_handlers={
            TokenRejected: rejected_token,
            BodyTooLarge: too_large,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    # Starlette's trailing-slash redirect builds its Location from the Host header (and always
    # http://): off. A wrong path is a 404; the one redirect (ID → ID/) is a relative path.
    app.router.redirect_slashes = False
    app.state.site = site
    return app


def form(show: Endpoint, act: Endpoint) -> Endpoint:
    """One route for a page and its form: GET and HEAD show (and never change anything), POST
    acts; other methods get 405 with `Allow: GET, HEAD, POST`."""

    async def endpoint(request: Request) -> Response:
        return await (act(request) if request.method == "POST" else show(request))

    return endpoint


async def home(request: Request) -> Response:
    site = Site.of(request)
    found = site.archive.index(request)
    if found is not None:
        return found
    return site.pages.message(
        request, "archive", "archive_empty", links=("subscribe",), private=False
    )


async def feed(request: Request) -> Response:
    site = Site.of(request)
    body = await run_in_threadpool(site.archive.feed, site.public_url)
    return Response(
        body,
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": CACHE},
    )


async def robots(request: Request) -> Response:
    return PlainTextResponse(ROBOTS)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})


async def issue_redirect(request: Request) -> Response:
    issue_id = request.path_params["issue_id"]
    if ISSUE_ID.match(issue_id) and (Site.of(request).archive.build_dir / issue_id).is_dir():
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return RedirectResponse(f"{base}/{issue_id}/", status_code=308)
    raise HTTPException(404)


async def issue_index(request: Request) -> Response:
    return _issue(request, "index.html")


async def issue_file(request: Request) -> Response:
    return _issue(request, request.path_params["name"])


def _issue(request: Request, name: str) -> Response:
    found = Site.of(request).archive.issue_file(request, request.path_params["issue_id"], name)
    if found is None:
        raise HTTPException(404)
    return found


async def rejected_token(request: Request, exc: Exception) -> Response:
    expired = isinstance(exc, TokenRejected) and exc.reason == "expired"
    body = "expired_link_body" if expired else "invalid_link_body"
    return Site.of(request).pages.message(
        request, "invalid_link_title", body, status=400, links=("subscribe",)
    )


async def too_large(request: Request, exc: Exception) -> Response:
    limit = exc.limit if isinstance(exc, BodyTooLarge) else 0
    return Site.of(request).pages.message(
        request, "too_large_title", "too_large_body", status=413, values={"kb": limit // 1024}
    )


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    pages = Site.of(request).pages
    if status == 404:
        return pages.message(
            request, "not_found_title", "not_found_body", status=404, links=("archive",)
        )
    if status == 405:
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        return pages.message(request, "method_title", "method_body", status=405, headers=headers)
    return pages.message(
        request, "bad_request_title", "bad_request_body", status=status, links=("archive",)
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("error answering %s %s", request.method, request.url.path, exc_info=exc)
    site = Site.of(request)
    response = site.pages.message(
        request,
        "server_error_title",
        "server_error_body",
        status=500,
        values={"email": site.publication.contact_email},
    )
    for name, value in DEFAULT_HEADERS.items():  # this answer bypasses the header middleware
        response.headers.setdefault(name, value)
    return response
