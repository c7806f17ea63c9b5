"""`nyhetsbrev serve` for a workspace with several publications: each publication's own app
(archive, feed, sign-up, personal links, its own contact list and link key) under /<name>/,
and a short list of the publications at /."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from html import escape
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from nyhetsbrev.errors import WebError
from nyhetsbrev.issue.model import ISSUE_ID
from nyhetsbrev.web.public import create_public_app, health
from nyhetsbrev.web.security import SecurityHeaders
from nyhetsbrev.web.site import Site
from nyhetsbrev.workspace import Workspace


def create_served_app(workspaces: Sequence[Workspace], **options: Any) -> Starlette:
    """One publication: its app, at / as always. Several: each under /<name>/."""
    if len(workspaces) == 1 and not workspaces[0].several:
        return create_public_app(workspaces[0], **options)
    apps: dict[str, Starlette] = {}
    for ws in workspaces:
        assert ws.publication is not None
        app = create_public_app(ws, **options)
        path = urlsplit(app.state.site.public_url).path.rstrip("/")
        if path != f"/{ws.publication}":
            raise WebError(
                f"{ws.relative(ws.newsletters)}/publication.yaml: public_url is "
                f"{app.state.site.public_url}, but this app serves {ws.publication} under "
                f"/{ws.publication}/ (the links in its emails point there): end public_url "
                f"with /{ws.publication}, e.g. https://nyhetsbrev.example.org/{ws.publication}"
            )
        apps[ws.publication] = app
    sites = [app.state.site for app in apps.values()]
    first = sites[0].publication  # the list's language and title: the first publication's

    async def index(request: Request) -> Response:
        items = "".join(
            f'<li><a href="/{escape(name)}/">{escape(app.state.site.publication.title)}</a></li>'
            for name, app in apps.items()
        )
        page = (
            f'<!doctype html><html lang="{escape(first.language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(first.title)}</title></head><body><main><ul>{items}</ul></main>"
            "</body></html>"
        )
        return HTMLResponse(page)

    async def robots(request: Request) -> Response:
        lines = ["User-agent: *"]
        for name in apps:
            lines += [f"Disallow: /{name}/{p}/" for p in ("confirm", "unsubscribe", "preferences")]
        return PlainTextResponse("\n".join(lines) + "\n")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with ExitStack() as stack:
            for site in sites:
                await run_in_threadpool(site.open)
                stack.callback(site.close)
            yield

    routes: list[Route | Mount] = [
        Route("/", index, methods=["GET"]),
        Route("/robots.txt", robots, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    routes += [Mount(f"/{name}", app=app) for name, app in apps.items()]
    # /<name> → /<name>/ as a relative path: Starlette's own trailing-slash redirect would build
    # its Location from the Host header (issue 15, finding 5), so it is off below.
    routes += [Route(f"/{name}", _to_slash(name), methods=["GET"]) for name in apps]
    legacy = next((ws.publication for ws in workspaces if ws.links_unscoped), None)
    if legacy is not None:
        routes += legacy_routes(legacy)
    parent = Starlette(routes=routes, lifespan=lifespan)
    parent.router.redirect_slashes = False
    parent.add_middleware(SecurityHeaders)
    if legacy is not None:
        parent.add_middleware(PersonalLinks, publication=legacy)
    parent.state.sites = sites
    return parent


def _to_slash(name: str) -> Any:
    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"/{name}/", status_code=308)

    return redirect


def legacy_routes(publication: str) -> list[Route | Mount]:
    """The addresses in emails sent before `nyhetsbrev migrate` (the web edition, the feed):
    a permanent redirect to where they are now."""

    async def moved(request: Request) -> Response:
        issue_id = request.path_params.get("issue_id")
        if issue_id is not None and not ISSUE_ID.match(issue_id):
            return PlainTextResponse("Not Found\n", status_code=404)
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/{publication}{request.url.path}{query}", status_code=308)

    return [
        Route("/feed.xml", moved, methods=["GET"]),
        Route("/index.html", moved, methods=["GET"]),
        Route("/{issue_id}", moved, methods=["GET"]),
        Route("/{issue_id}/{rest:path}", moved, methods=["GET"]),
    ]


class PersonalLinks:
    """The personal links sent before `nyhetsbrev migrate` (/unsubscribe/…, /confirm/…,
    /preferences/…) answered by the moved publication's app in place, not redirected: a mail
    provider's one-click unsubscribe (RFC 8058) is a POST that need not follow redirects."""

    PREFIXES = ("/unsubscribe/", "/confirm/", "/preferences/")

    def __init__(self, app: ASGIApp, publication: str) -> None:
        self.app = app
        self.prefix = f"/{publication}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.PREFIXES):
            raw = scope.get("raw_path") or str(scope["path"]).encode()
            scope = {
                **scope,
                "path": self.prefix + scope["path"],
                "raw_path": self.prefix.encode() + raw,
            }
        await self.app(scope, receive, send)


def served_sites(app: Starlette) -> list[Site]:
    """The sites of an app made by `create_served_app` (one, or one per publication)."""
    site = getattr(app.state, "site", None)
    return [site] if isinstance(site, Site) else list(app.state.sites)
