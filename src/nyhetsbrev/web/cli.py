"""The web verbs: `nyhetsbrev preview ID` for editors and `nyhetsbrev serve` for the public."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import socket
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING, Any

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.errors import IssueError, WebError

if TYPE_CHECKING:  # uvicorn is imported when a server starts, not for `--help`
    import uvicorn

log = logging.getLogger("nyhetsbrev.web")
_TOKEN_PATH = re.compile(r"/(unsubscribe|confirm|preferences)/[^/?\s]+")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before the app starts, so a taken port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise WebError(
                f"port {port} on {host} is already in use (another preview or serve?): "
                "stop it, or choose another port with --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise WebError(
                f"no permission to listen on port {port}: ports below 1024 need privileges — "
                "use a higher port and let the reverse proxy listen on 443"
            ) from None
        raise WebError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def server(
    app: Any,
    *,
    access_log: bool,
    log_level: str = "info",
    graceful: int = 3,
    header_timeout: float | None = None,
) -> uvicorn.Server:
    """A uvicorn server for `app` with the limits of `web.serving` (header and idle timeouts,
    concurrency, head size); forwarded headers are the app's business (--trusted-proxy).
    `log_level="warning"` keeps uvicorn's start-up and shutdown lines out of the terminal."""
    import uvicorn

    from nyhetsbrev.web.serving import LIMITS, protocol

    config = uvicorn.Config(
        app,
        http=protocol(LIMITS.header_timeout if header_timeout is None else header_timeout),
        timeout_keep_alive=LIMITS.keep_alive,
        limit_concurrency=LIMITS.concurrency,
        h11_max_incomplete_event_size=LIMITS.max_head,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        access_log=access_log,
        log_level=log_level,
        timeout_graceful_shutdown=graceful,  # event streams never end by themselves
    )
    return uvicorn.Server(config)


def run(served: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until Ctrl-C (or SIGTERM), then finish the requests under way and stop."""
    # uvicorn re-raises the Ctrl-C it handled once it has stopped: here, a normal end.
    with sock, contextlib.suppress(KeyboardInterrupt):
        served.run(sockets=[sock])
    if not served.started:
        raise WebError("the app did not start: see the messages above")
    click.echo("Stopped.")


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RedactTokens(logging.Filter):
    """Keep personal link tokens out of access logs: /unsubscribe/… instead of the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_PATH.sub(r"/\1/…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def _log_to_terminal() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("nyhetsbrev")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def open_browser(url: str) -> None:
    """Open `url` in the desktop's browser, in the background; never a text browser in this
    terminal (without a graphical session, the editor opens the address themselves)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        click.echo("No graphical session here: open the address above in a browser.")
        return

    def run() -> None:
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url, new=2)

    threading.Thread(target=run, name="open-browser", daemon=True).start()


@click.command()
@click.argument("issue_id", metavar="ID")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8025,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option(
    "--verbose", is_flag=True, help="Also show the web server's own messages and every request."
)
@pass_app
def preview(app: AppContext, issue_id: str, port: int, no_open: bool, verbose: bool) -> None:
    """Preview an issue while you write it: the email at 375 and 640 px, the plain text, the web
    edition, the PDF and every `check` finding, on one page.

    The page rebuilds and reloads by itself whenever the issue, the publication file or the
    theme is saved; a YAML error shows in the page with its line. Serves on 127.0.0.1 only.
    """
    from nyhetsbrev.issue.load import check_issue_id
    from nyhetsbrev.web.preview import create_preview_app

    ws = app.workspace
    check_issue_id(issue_id)
    if not ws.issue_file(issue_id).is_file():
        raise IssueError(
            f"{ws.relative(ws.issue_file(issue_id))} does not exist: start it with "
            f"`nyhetsbrev new {issue_id}`"
        )
    application = create_preview_app(ws, issue_id)
    sock = bind("127.0.0.1", port)
    url = f"{address(sock)}/"
    _log_to_terminal()
    click.echo(f"Previewing {issue_id} at {url} — it rebuilds on every save. Ctrl-C stops.")
    if not no_open:
        open_browser(url)
    served = server(
        application,
        access_log=verbose,
        log_level="info" if verbose else "warning",
        graceful=1,
    )
    run(served, sock)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--trusted-proxy",
    "trusted",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (IP or network) whose X-Forwarded-For and X-Forwarded-Proto to "
    "believe; repeatable. Without it, the connecting address is the client.",
)
@pass_app
def serve(app: AppContext, host: str, port: int, trusted: tuple[str, ...]) -> None:
    """Serve the public side: the archive of built issues and its Atom feed, the sign-up form
    (double opt-in), and the unsubscribe and preferences links of every email.

    Run it behind a reverse proxy that terminates TLS (see docs/operations.md). It uses the
    editors' contact database (NYHETSBREV_DATABASE_URL), the key of the personal links
    (NYHETSBREV_SECRET_KEY) and the SMTP server (NYHETSBREV_SMTP_URL) for confirmation emails.

    It logs to the terminal as a server should: the web server's start-up and shutdown lines,
    and one line per request with the personal link tokens replaced by "…".
    """
    from nyhetsbrev.contacts.database import display_url
    from nyhetsbrev.web.several import create_served_app, served_sites

    workspaces = app.workspaces
    application = create_served_app(workspaces, trusted_proxies=trusted)
    shown = []
    for site in served_sites(application):
        site.open()  # the database now (reachable? migrated?), not at the first reader's click
        shown.append((site.public_url, display_url(site.store.engine)))
        site.close()
    sock = bind(host, port)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    _log_to_terminal()
    folders = ", ".join(f"{ws.relative(ws.build_dir)}/" for ws in workspaces)
    click.echo(f"Serving {folders} and the sign-up pages at {address(sock)}/")
    for public_url, database in shown:
        click.echo(f"  public address: {public_url}/ · contacts: {database}")
    if trusted:
        click.echo(f"  trusting X-Forwarded-For from: {', '.join(trusted)}")
    click.echo("Ctrl-C stops.")
    run(server(application, access_log=True), sock)
