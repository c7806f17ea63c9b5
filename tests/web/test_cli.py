"""`nyhetsbrev preview` and `nyhetsbrev serve` as commands: clear errors, and real runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from tests.web.conftest import free_port

Cli = Callable[..., Result]


def test_preview_needs_an_existing_issue(cli: Cli, workspace: Path) -> None:
    result = cli("preview", "2025-q1", "--no-open")
    assert result.exit_code == 1
    assert "newsletters/2025-q1/issue.yaml does not exist" in result.output
    assert "nyhetsbrev new 2025-q1" in result.output
    result = cli("preview", "2025-1", "--no-open")
    assert result.exit_code == 1 and "is not an issue id" in result.output


def test_a_taken_port_is_a_clear_error(cli: Cli, workspace: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = cli("preview", "2024-q4", "--no-open", "--port", port)
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"NYHETSBREV_SECRET_KEY": None}, "NYHETSBREV_SECRET_KEY is not set"),
        ({"NYHETSBREV_SECRET_KEY": "short"}, "NYHETSBREV_SECRET_KEY is too short"),
        ({"NYHETSBREV_SMTP_URL": None}, "NYHETSBREV_SMTP_URL is not set"),
        ({"NYHETSBREV_SMTP_URL": "http://x"}, "must start with smtp://"),
        (
            {"NYHETSBREV_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"},
            "cannot open the contact database",
        ),
    ],
)
def test_serve_stops_at_once_on_missing_settings(
    cli: Cli,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str | None],
    message: str,
) -> None:
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://127.0.0.1:2525")
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    result = cli("serve", "--port", "0")
    assert result.exit_code == 1
    assert message in result.output


def test_serve_needs_the_public_address_and_real_proxy_addresses(
    cli: Cli, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://127.0.0.1:2525")
    result = cli("serve", "--trusted-proxy", "proxy.local")
    assert result.exit_code == 1
    assert '--trusted-proxy "proxy.local" is not an IP address or network' in result.output
    pub = workspace / "newsletters" / "kom.yaml"
    pub.write_text(re.sub(r"^public_url: .*\n", "", pub.read_text("utf-8"), flags=re.M), "utf-8")
    result = cli("serve")
    assert result.exit_code == 1
    assert "newsletters/kom.yaml: `public_url` is not set" in result.output


def test_help_texts(cli: Cli) -> None:
    for verb, words in (
        ("preview", ["375 and 640 px", "--no-open", "--port"]),
        ("serve", ["--trusted-proxy", "--host", "reverse proxy", "NYHETSBREV_SECRET_KEY"]),
    ):
        result = cli(verb, "--help")
        assert result.exit_code == 0
        for word in words:
            assert word in " ".join(result.output.split()), (verb, word)
    assert "preview" in cli("--help").output and "serve" in cli("--help").output


def _run(args: list[str], workspace: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nyhetsbrev", *args],
        cwd=workspace,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(process.communicate()[0]) from None
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, output
    return output


def test_preview_and_serve_run_and_stop_cleanly(workspace: Path) -> None:
    port = free_port()
    preview = _run(["preview", "2024-q4", "--no-open", "--port", str(port)], workspace, {})
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/", preview)
        assert page.status_code == 200 and "Forhåndsvisning" in page.text
    finally:
        output = _stop(preview)
    assert f"Previewing 2024-q4 at http://127.0.0.1:{port}/" in output
    assert re.search(r"2024-q4 rebuilt \(#1\): email \d+ ms", output)

    port = free_port()
    env = {"NYHETSBREV_SMTP_URL": "smtp://127.0.0.1:9"}
    serve = _run(["serve", "--port", str(port), "--trusted-proxy", "127.0.0.1"], workspace, env)
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/subscribe", serve)
        assert page.status_code == 200 and "Meld deg på nyhetsbrevet" in page.text
        httpx.post(f"http://127.0.0.1:{port}/unsubscribe/AQIDBAUGBwgJCgsMDQ4PEBESExQVFhc")
    finally:
        output = _stop(serve)
    assert "public address: https://nyhetsbrev.example.org/" in output
    assert "trusting X-Forwarded-For from: 127.0.0.1" in output
    assert '"POST /unsubscribe/… HTTP/1.1" 400' in output  # no token in the log
