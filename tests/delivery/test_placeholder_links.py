"""`send --confirm` refuses an issue whose links still go to a placeholder ("#", example.org)
unless --allow-placeholder-links: every partner would see it, so --allow-warnings is not enough."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.delivery.conftest import ISSUE, Sink

REFUSAL = (
    "63 link(s) still go to a placeholder, first at newsletters/2024-q4/issue.yaml:32:26 "
    "(`nyhetsbrev check` lists them all): give them their real addresses, or add "
    "--allow-placeholder-links to send anyway"
)


def test_a_real_send_needs_its_own_flag_for_placeholder_links(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(2)
    refused = cli("send", ISSUE, "--confirm", "--allow-warnings", "--rate", "0")
    assert refused.exit_code == 1
    assert refused.output.endswith(f"Error: cannot send for real yet:\n  - {REFUSAL}\n")
    assert smtp_sink.count() == 0
    # a test message is for the editor's eyes: it goes out, placeholders and all
    test = cli("send", ISSUE, "--test", "redaktor@example.no", "--allow-warnings")
    assert test.exit_code == 0, test.output
    sent = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0"
    )
    assert sent.exit_code == 0, sent.output
    assert smtp_sink.count() == 3
    assert all(b'href="#"' not in message.data for message in smtp_sink.received)


def test_an_issue_without_placeholder_links_needs_no_flag(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    issue = send_ws / "newsletters" / ISSUE / "issue.yaml"
    issue.write_text(
        issue.read_text("utf-8").replace("](#)", "](https://www.politiet.no/)"), "utf-8"
    )
    source = issue.read_text("utf-8")
    for line in source.splitlines():  # events and decisions with `url: "#"`
        if line.strip() in ('url: "#"', "url: '#'"):
            source = source.replace(line, line.replace("#", "https://www.politiet.no/"))
    issue.write_text(source, "utf-8")
    contacts(1)
    assert cli("build", ISSUE).exit_code == 0
    result = cli("send", ISSUE, "--confirm", "--allow-warnings", "--rate", "0")
    assert result.exit_code == 0, result.output
    assert smtp_sink.count() == 1
