"""The publication file, as the outside review found it let through (issue 15: 2, 8, 9).

`check` refuses each, located (file:line:col), with what to do; `serve` refuses to start on any
publication `check` refuses; a CR LF is never echoed raw.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PUB = "newsletters/kom.yaml"


def edit(workspace: Path, old: str, new: str) -> None:
    path = workspace / PUB
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def check_error(cli: object, workspace: Path) -> str:
    result = cli("check", "2024-q4")  # type: ignore[operator]
    assert result.exit_code == 1, result.output
    return str(result.output)


def test_no_topics_is_refused_with_its_place(cli: object, workspace: Path) -> None:
    edit(
        workspace,
        "topics:\n  - nyhetsbrev\n  - rettsavgjorelser\n  - tilstandsrapport",
        "topics: []",
    )
    output = check_error(cli, workspace)
    assert re.search(rf"{PUB}:\d+:\d+: error: topics: .*at least one topic", output), output


def test_serve_refuses_what_check_refuses(
    cli: object, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "serve-check-key-Zq8Vw3Lr6Nx1Kb9Mt4PcY")
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://127.0.0.1:9")
    edit(
        workspace,
        "topics:\n  - nyhetsbrev\n  - rettsavgjorelser\n  - tilstandsrapport",
        "topics: []",
    )
    result = cli("serve", "--port", "0")  # type: ignore[operator]
    assert result.exit_code == 1
    assert re.search(rf"{PUB}:\d+:\d+: error: topics: .*at least one topic", result.output)


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [
        (
            "public_url",
            "public_url: https://nyhetsbrev.example.org",
            'public_url: "javascript:alert(1);x="',
        ),
        (
            "public_url",
            "public_url: https://nyhetsbrev.example.org",
            "public_url: http://nyhetsbrev.example.org",
        ),
        ("public_url", "public_url: https://nyhetsbrev.example.org", "public_url: https://"),
        (
            "public_url",
            "public_url: https://nyhetsbrev.example.org",
            "public_url: https://user:pw@nyhetsbrev.example.org",
        ),
        ("website", "website: https://www.politiet.no/menneskehandel", "website: data:text/html,x"),
        ("website", "website: https://www.politiet.no/menneskehandel", "website: //evil.example"),
        (
            "contact.body",
            "(https://www.politiet.no/menneskehandel) finner",
            "(http://www.politiet.no/menneskehandel) finner",
        ),
        (
            "about.body",
            "[politiet.no/menneskehandel](https://www.politiet.no/menneskehandel)",
            "[x](http://www.politiet.no/)",
        ),
    ],
)
def test_every_url_must_be_https_located(
    cli: object, workspace: Path, field: str, old: str, new: str
) -> None:
    edit(workspace, old, new)
    output = check_error(cli, workspace)
    assert re.search(rf"{PUB}:\d+:\d+: error: {re.escape(field)}: .*https://", output), output


def test_http_is_fine_for_localhost(cli: object, workspace: Path) -> None:
    edit(
        workspace,
        "public_url: https://nyhetsbrev.example.org",
        "public_url: http://localhost:8000",
    )
    assert cli("check", "2024-q4").exit_code == 0  # type: ignore[operator]


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [
        (
            "sender.email",
            "  email: KOM.pod@politiet.no",
            '  email: "kom@politiet.no\\r\\nBcc: all@evil.example"',
        ),
        ("sender.email", "  email: KOM.pod@politiet.no", "  email: KOM.pod"),
        ("sender.reply_to", "  reply_to: KOM.pod@politiet.no", "  reply_to: KOM pod@politiet.no"),
        ("contact_email", "contact_email: KOM.pod@politiet.no", "contact_email: kom@@politiet.no"),
    ],
)
def test_every_address_is_validated_located_and_never_echoed_raw(
    cli: object, workspace: Path, field: str, old: str, new: str
) -> None:
    edit(workspace, old, new)
    output = check_error(cli, workspace)
    assert re.search(
        rf"{PUB}:\d+:\d+: error: {re.escape(field)}: not a valid email address", output
    ), output
    assert "\r" not in output and "\nBcc:" not in output
