"""`nyhetsbrev preview`'s app: the issue's editions side by side, rebuilt and reloaded on save."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from watchfiles import Change, DefaultFilter, awatch

from nyhetsbrev.issue.load import check_issue_id
from nyhetsbrev.render.environment import environment
from nyhetsbrev.theme import default_theme
from nyhetsbrev.web.approve import Approvals, panel_context
from nyhetsbrev.web.archive import PUBLIC_SUFFIXES, edition_csp
from nyhetsbrev.web.pages import LANGUAGE_NAMES, LANGUAGES, choose_language, web_labels
from nyhetsbrev.web.rebuild import SITE_PREFIX, Previewer, Snapshot
from nyhetsbrev.web.security import LOOPBACK_HOSTS, AllowedHosts, SecurityHeaders, host_literal
from nyhetsbrev.workspace import Workspace

log = logging.getLogger("nyhetsbrev.web")
STATIC = Path(__file__).resolve().parent / "static"
WIDTHS = (375, 640)
HEARTBEAT = 15.0  # seconds between keep-alive comments on the event stream
NO_STORE = {"Cache-Control": "no-store"}
#: The shell page: its own script and styles only; frames of its own origin.
SHELL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: The email as mail clients get it: inline styles, no script at all, framed by the shell only.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
FRAMEABLE = {"X-Frame-Options": "SAMEORIGIN", **NO_STORE}


class PreviewState:
    """The latest snapshot, and a way for event streams to wait for the next one."""

    def __init__(self, previewer: Previewer) -> None:
        self.previewer = previewer
        self.snapshot: Snapshot | None = None
        self._changed: anyio.Event | None = None

    def publish(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if self._changed is not None:
            self._changed.set()
        self._changed = anyio.Event()

    async def next_change(self, seen: int, timeout: float) -> int:
        """Wait until a generation newer than `seen` is published (or `timeout`); return it."""
        with anyio.move_on_after(timeout):
            while self.current().generation <= seen and self._changed is not None:
                await self._changed.wait()
        return self.current().generation

    def current(self) -> Snapshot:
        assert self.snapshot is not None, "the first build runs before the app serves"
        return self.snapshot


def create_preview_app(
    ws: Workspace, issue_id: str, *, watch: bool = True, host: str = "127.0.0.1"
) -> Starlette:
    """The preview app of one issue; `watch=False` builds once (for tests of the pages).
    Only loopback names and the bound address `host` are answered as Host."""
    check_issue_id(issue_id)
    state = PreviewState(Previewer(ws, issue_id))
    approvals = Approvals(ws, issue_id)

    async def rebuild() -> Snapshot:
        snapshot = await run_in_threadpool(state.previewer.build)
        state.publish(snapshot)
        errors = sum(1 for f in snapshot.findings if f.level == "error")
        if snapshot.ok:
            log.info(
                "%s rebuilt (#%d): email %.0f ms, everything but the PDF %.0f ms",
                issue_id,
                snapshot.generation,
                snapshot.email_ms,
                snapshot.total_ms,
            )
        else:
            problem = snapshot.problems[0].splitlines()[0] if snapshot.problems else ""
            log.info(
                "%s rebuilt (#%d): cannot build — %s",
                issue_id,
                snapshot.generation,
                f"{errors} error(s), shown in the page" if errors else problem,
            )
        return snapshot

    async def watch_files(stop: anyio.Event) -> None:
        default = DefaultFilter()
        while not stop.is_set():
            folders, relevant = state.previewer.watched(state.snapshot)

            def matters(change: Change, path: str, relevant: list[Path] = relevant) -> bool:
                where = Path(path)
                inside = any(where == r or r in where.parents for r in relevant)
                return inside and default(change, path)

            async for _changes in awatch(*folders, watch_filter=matters, stop_event=stop, step=30):
                await rebuild()
                if state.previewer.watched(state.snapshot) != (folders, relevant):
                    break  # the theme or the publication file changed: watch the new set

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await rebuild()
        if not watch:
            yield
            return
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(watch_files, stop)
            try:
                yield
            finally:
                stop.set()

    app = Starlette(
        routes=[
            Route("/", shell, methods=["GET"]),
            Route("/events", events, methods=["GET"]),
            Route("/email.html", email, methods=["GET"]),
            Route("/email.txt", text, methods=["GET"]),
            Route("/edition.pdf", pdf, methods=["GET"]),
            Route("/approve", approve, methods=["POST"]),
            Route(f"{SITE_PREFIX}/{{issue_id}}/", web_edition, methods=["GET"]),
            Route(f"{SITE_PREFIX}/{{issue_id}}/{{name}}", site_file, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(AllowedHosts, hosts=LOOPBACK_HOSTS | {host_literal(host)}),
            Middleware(SecurityHeaders),
        ],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # its Location would come from the Host header
    app.state.preview = state
    app.state.approvals = approvals
    return app


def _state(request: Request) -> PreviewState:
    state: PreviewState = request.app.state.preview
    return state


def _template() -> jinja2.Template:
    return environment(default_theme()).get_template("web-preview.html.j2")


async def shell(request: Request) -> Response:
    """The page: findings, the email at two widths, the text, the web edition and the PDF."""
    snapshot = _state(request).current()
    default = snapshot.loaded.language if snapshot.loaded is not None else "nb"
    language = choose_language(request, default if default in LANGUAGES else "nb")
    labels = web_labels(language)
    loaded = snapshot.loaded
    errors = [f for f in snapshot.findings if f.level == "error"]
    approvals: Approvals = request.app.state.approvals
    panel, cookie = await approvals.panel(request, snapshot.generation)
    page = _template().render(
        lang=language,
        labels=labels,
        snapshot=snapshot,
        title=f"{loaded.title} – {loaded.period_label}" if loaded else snapshot.issue_id,
        errors=[(f, snapshot.excerpt(f)) for f in errors],
        warnings=[f for f in snapshot.findings if f.level == "warning"],
        widths=WIDTHS,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        site=f"{SITE_PREFIX}/{snapshot.issue_id}/",
        **panel_context(panel),
    )
    response = HTMLResponse(page, headers={"Content-Security-Policy": SHELL_CSP, **NO_STORE})
    if cookie is not None:
        approvals.csrf.set_cookie(response, request, cookie)
    return response


async def approve(request: Request) -> Response:
    """The page's approve button (POST, CSRF-checked, loopback only): see web/approve.py."""
    snapshot = _state(request).current()
    default = snapshot.loaded.language if snapshot.loaded is not None else "nb"
    language = choose_language(request, default if default in LANGUAGES else "nb")
    approvals: Approvals = request.app.state.approvals
    return await approvals.approve(request, snapshot.generation, web_labels(language), language)


async def events(request: Request) -> Response:
    """Server-sent events: `build` with the generation number after every rebuild."""
    state = _state(request)

    async def stream() -> AsyncIterator[str]:
        seen = state.current().generation
        yield f"retry: 1000\nevent: build\ndata: {seen}\n\n"
        while True:
            latest = await state.next_change(seen, HEARTBEAT)
            if latest != seen:
                seen = latest
                yield f"event: build\ndata: {seen}\n\n"
            else:
                yield ": still here\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", **NO_STORE},
    )


async def email(request: Request) -> Response:
    snapshot = _state(request).current()
    if snapshot.email_html is None:
        raise HTTPException(404)
    return HTMLResponse(
        snapshot.email_html, headers={"Content-Security-Policy": EMAIL_CSP, **FRAMEABLE}
    )


async def text(request: Request) -> Response:
    snapshot = _state(request).current()
    if snapshot.text is None:
        raise HTTPException(404)
    return PlainTextResponse(snapshot.text, headers=NO_STORE)


async def pdf(request: Request) -> Response:
    state = _state(request)
    snapshot = state.current()
    data, error = await run_in_threadpool(state.previewer.pdf, snapshot)
    if data is None:
        labels = web_labels(choose_language(request, "nb"))
        message = f"{labels['preview_pdf_failed']}: {error or snapshot.issue_id}"
        return PlainTextResponse(message, status_code=500 if error else 404, headers=FRAMEABLE)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{snapshot.pdf_name}"',
            # Chromium's PDF viewer refuses a sandboxed or object-src 'none' document.
            "Content-Security-Policy": "frame-ancestors 'self'",
            **FRAMEABLE,
        },
    )


async def web_edition(request: Request) -> Response:
    snapshot = _state(request).current()
    if request.path_params["issue_id"] != snapshot.issue_id or snapshot.web_html is None:
        raise HTTPException(404)
    return HTMLResponse(
        snapshot.web_html,
        headers={
            "Content-Security-Policy": edition_csp(snapshot.web_html.encode(), framed_by="'self'"),
            **FRAMEABLE,
        },
    )


async def site_file(request: Request) -> Response:
    """The issue's pictures (from the issue folder) and its PDF, where the web edition links."""
    snapshot = _state(request).current()
    name = request.path_params["name"]
    if request.path_params["issue_id"] != snapshot.issue_id:
        raise HTTPException(404)
    if name == "index.html":
        return await web_edition(request)
    if name == snapshot.pdf_name:
        return await pdf(request)
    data = snapshot.images.get(name)
    kind = PUBLIC_SUFFIXES.get(Path(name).suffix.lower())
    if data is None or kind is None or kind == "application/pdf":
        raise HTTPException(404)
    return Response(data, media_type=kind, headers=NO_STORE)
