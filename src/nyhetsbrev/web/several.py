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
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from nyhetsbrev.errors import WebError
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

    async def index(request: Request) -> Response:
        items = "".join(
            f'<li><a href="/{escape(name)}/">{escape(app.state.site.publication.title)}</a></li>'
            for name, app in apps.items()
        )
        page = (
            '<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Nyhetsbrev</title></head><body><ul>{items}</ul></body></html>"
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
    parent = Starlette(routes=routes, lifespan=lifespan)
    parent.add_middleware(SecurityHeaders)
    parent.state.sites = sites
    return parent


def served_sites(app: Starlette) -> list[Site]:
    """The sites of an app made by `create_served_app` (one, or one per publication)."""
    site = getattr(app.state, "site", None)
    return [site] if isinstance(site, Site) else list(app.state.sites)
