"""`nyhetsbrev send` and `nyhetsbrev campaigns` through the CLI, against a loopback SMTP server."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.delivery.conftest import ISSUE, PUBLIC_URL, Sink, database

from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.contacts.tokens import read_token

SEND = ("send", ISSUE)
REAL = ("send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0")
WARNINGS = 2  # the reference issue's grouped warning lines (placeholder links, "her" links)


def body(output: str) -> list[str]:
    """The command's own lines, after the issue's editorial warnings."""
    return [line for line in output.splitlines() if ": warning: " not in line]


def report(root: Path, number: int) -> list[dict[str, str]]:
    path = root / "contacts" / "reports" / f"campaign-{number}-{ISSUE}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_dry_run_builds_checks_and_sends_nothing(
    workspace: Path, cli: Any, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a fresh workspace: builds the issue, lists what stops a real send, sends nothing."""
    monkeypatch.delenv("NYHETSBREV_SMTP_URL", raising=False)
    monkeypatch.delenv("NYHETSBREV_SECRET_KEY", raising=False)
    with open_store(database(workspace)) as store:
        for number in range(1, 4):
            store.add(f"p{number}@example.no", actor="test")
        store.add("other@example.no", actor="test", topics=["tilstandsrapport"])
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert (workspace / "build" / ISSUE / "email.html").exists()
    lines = body(result.output)
    assert lines[0] == "Build:    build/2024-q4/ (built now)"
    assert lines[1:5] == [
        "Subject:  Nyhetsbrev fra KOM – oktober–desember 2024",
        "From:     Koordineringsenheten mot menneskehandel <KOM.pod@politiet.no>",
        "Reply-To: KOM.pod@politiet.no",
        "Audience: 3 recipient(s) (subscribed, topic nyhetsbrev)",
    ]
    assert re.fullmatch(r"Message:  \d+\.\d KB \(text and HTML\)", lines[5])
    assert lines[6:] == [
        "SMTP:     not configured: set NYHETSBREV_SMTP_URL (see docs/operations.md)",
        "Time:     about 6 s at 30 messages a minute",
        "Approval: required, and cannot be checked: NYHETSBREV_SECRET_KEY is not set",
        "Before sending:",
        "  - NYHETSBREV_SMTP_URL is not set: say which SMTP server sends the newsletter (see "
        "docs/operations.md)",
        "  - NYHETSBREV_SECRET_KEY is not set: the personal unsubscribe links are signed with it "
        "(see docs/operations.md)",
        "  - newsletters/kom.yaml: public_url is a placeholder (https://nyhetsbrev.example.org), "
        "so the unsubscribe links would not work: set it to the address where `nyhetsbrev serve` "
        "answers",
        "  - 63 link(s) still go to a placeholder, first at newsletters/2024-q4/issue.yaml:32:26 "
        "(`nyhetsbrev check` lists them all): give them their real addresses, or add "
        "--allow-placeholder-links to send anyway",
        "Nothing was sent. To send to 3 recipients, run: nyhetsbrev send 2024-q4 --confirm "
        "--allow-warnings",
    ]
    assert smtp_sink.count() == 0
    second = cli(*SEND, "--topic", "tilstandsrapport", "--rate", "0")
    assert "Build:    build/2024-q4/ (up to date)" in second.output
    assert "Audience: 1 recipient(s) (subscribed, topic tilstandsrapport)" in second.output
    assert "Time:     no rate limit (--rate 0): as fast as the server takes them" in second.output
    assert second.output.endswith(
        "Nothing was sent. To send to 1 recipients, run: nyhetsbrev send 2024-q4 --confirm "
        "--topic=tilstandsrapport --allow-warnings\n"
    )
    refused = cli("send", ISSUE, "--confirm")
    assert refused.exit_code == 1
    assert refused.output.endswith(
        "Error: cannot send for real yet:\n"
        "  - NYHETSBREV_SMTP_URL is not set: say which SMTP server sends the newsletter (see "
        "docs/operations.md)\n"
        "  - NYHETSBREV_SECRET_KEY is not set: the personal unsubscribe links are signed with it "
        "(see docs/operations.md)\n"
        "  - newsletters/kom.yaml: public_url is a placeholder (https://nyhetsbrev.example.org), "
        "so the unsubscribe links would not work: set it to the address where `nyhetsbrev serve` "
        "answers\n"
        "  - 63 link(s) still go to a placeholder, first at newsletters/2024-q4/issue.yaml:32:26 "
        "(`nyhetsbrev check` lists them all): give them their real addresses, or add "
        "--allow-placeholder-links to send anyway\n"
        "  - `nyhetsbrev check` lists 121 editorial warnings (above): fix them, or add "
        "--allow-warnings to send anyway\n"
    )
    assert smtp_sink.count() == 0


def test_dry_run_with_the_server_configured(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(214)
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert (
        f"SMTP:     {smtp_sink.url} (STARTTLS when the server offers it, else plain (loopback))\n"
        "Login:    none\n"
    ) in result.output
    assert "Time:     about 7 min 8 s at 30 messages a minute" in result.output
    # placeholder links are the one thing left before a real send (they need their own flag)
    assert result.output.count("\n  - ") == 1 and "--allow-placeholder-links" in result.output
    assert result.output.endswith(
        "Nothing was sent. To send to 214 recipients, run: nyhetsbrev send 2024-q4 --confirm "
        "--allow-warnings\n"
    )
    capped = cli(*SEND, "--daily-cap", "100")
    assert (
        "Time:     about 7 min 8 s at 30 messages a minute; more than the daily cap (100): it "
        "pauses at the cap, resume it on each of the next 2 day(s)"
    ) in capped.output
    assert smtp_sink.count() == 0


def test_write_eml(send_ws: Path, cli: Any, contacts: Callable[..., list[int]]) -> None:
    ids = contacts(3)
    result = cli(*SEND, "--write-eml", "out")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Wrote 3 message(s) to out/ (nothing was sent).\n")
    files = sorted((send_ws / "out").iterdir())
    assert [f.name for f in files] == [f"0000{n}-person{n}@example.no.eml" for n in (1, 2, 3)]
    for path, contact_id in zip(files, ids, strict=True):
        header = re.search(rb"List-Unsubscribe: <[^>]+/unsubscribe/([\w-]+)>", path.read_bytes())
        assert header and read_token(header[1].decode(), "unsubscribe") == contact_id


def test_test_send(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    from nyhetsbrev.delivery.ledger import Ledger

    [contact_id] = contacts(1)
    refused = cli(*SEND, "--test", "redaktor@example.no")
    assert refused.exit_code == 1
    assert refused.output.endswith(
        "Error: cannot send a test yet:\n  - `nyhetsbrev check` lists 120 editorial warnings "
        "(above): fix them, or add --allow-warnings to send anyway\n"
    )
    result = cli(
        *SEND, "--test", "redaktor@example.no", "--test", "person1@example.no", "--allow-warnings"
    )
    assert result.exit_code == 0, result.output
    assert body(result.output) == [
        "redaktor@example.no: sent — 250 2.0.0 Ok: queued",
        "person1@example.no: sent — 250 2.0.0 Ok: queued",
        'Sent 2 test message(s) of 2, subject "[TEST] Nyhetsbrev fra KOM – oktober–desember '
        '2024". Nothing was sent to the list.',
    ]
    outsider, contact = (r.message for r in smtp_sink.received)
    assert outsider["Subject"] == "[TEST] Nyhetsbrev fra KOM – oktober–desember 2024"
    assert outsider["To"] == "redaktor@example.no"
    assert outsider["List-Unsubscribe"].startswith(
        f"<{PUBLIC_URL}/unsubscribe/TEST.link-in-test-messages-does-nothing>"
    )
    token = re.search(r"/unsubscribe/([\w-]+)>", contact["List-Unsubscribe"])
    assert token and read_token(token[1], "unsubscribe") == contact_id
    with open_store(database(send_ws)) as store:
        assert Ledger(store.engine).campaigns() == []  # test sends are not campaigns


def test_confirm_sends_once_reports_and_lists(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    store: ContactStore,
) -> None:
    ids = contacts(4)
    store.unsubscribe(ids[3], actor="test", source="manual")
    store.add("annet@example.no", actor="test", topics=["rettsavgjorelser"])
    result = cli(*REAL)
    assert result.exit_code == 0, result.output
    assert body(result.output)[0] == "Campaign 1 (2024-q4): 3 to send."
    assert re.fullmatch(
        r"Campaign 1 \(2024-q4\) finished after \d+ s: 3 sent now; in all 3 sent, 0 failed, "
        r"0 uncertain, 0 skipped, 0 not yet sent\.",
        body(result.output)[1],
    )
    assert body(result.output)[2] == "Report: contacts/reports/campaign-1-2024-q4.csv"
    assert sorted(smtp_sink.per_recipient().items()) == [
        (f"person{n}@example.no", 1) for n in (1, 2, 3)
    ]
    rows = report(send_ws, 1)
    assert [(r["address"], r["outcome"], r["smtp_reply"], r["attempts"]) for r in rows] == [
        (f"person{n}@example.no", "sent", "250 2.0.0 Ok: queued", "1") for n in (1, 2, 3)
    ]
    assert all(
        re.fullmatch(r"<nyhetsbrev\.2024-q4\.\w+@politiet\.no>", r["message_id"]) for r in rows
    )
    assert (send_ws / "contacts" / "reports" / ".gitignore").read_text().endswith("*\n")

    again = cli(*REAL)
    assert again.exit_code == 1
    assert again.output.endswith(
        "Error: nothing to send: all 3 recipient(s) already received 2024-q4; add --again to "
        "send it to them once more\n"
    )
    store.add("ny@example.no", actor="test")
    late = cli(*REAL)
    assert late.exit_code == 0, late.output
    assert smtp_sink.per_recipient()["ny@example.no"] == 1 and smtp_sink.count() == 4
    twice = cli(*REAL, "--again")
    assert twice.exit_code == 0, twice.output
    assert smtp_sink.count() == 8

    listing = cli("campaigns")
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == [
        "#",
        "issue",
        "status",
        "started",
        "sent",
        "failed",
        "uncert.",
        "skipped",
        "to",
        "send",
    ]
    assert [line.split()[:3] + line.split()[5:] for line in lines[1:]] == [
        ["1", ISSUE, "finished", "3", "0", "0", "0", "0"],
        ["2", ISSUE, "finished", "1", "0", "0", "0", "0"],
        ["3", ISSUE, "finished", "4", "0", "0", "0", "0"],
    ]
    shown = cli("campaigns", "show", "3", "--csv", "kampanje.csv")
    assert shown.exit_code == 0, shown.output
    assert "Audience: subscribed, topic nyhetsbrev, again" in shown.output
    assert (
        "Outcomes: 0 pending, 0 sending, 4 sent, 0 failed, 0 uncertain, 0 skipped" in shown.output
    )
    assert shown.output.endswith("Wrote 4 row(s) to kampanje.csv\n")
    assert (
        (send_ws / "kampanje.csv")
        .read_text("utf-8-sig")
        .startswith("address,outcome,time,smtp_reply,attempts,message_id\n")
    )
    missing = cli("campaigns", "show", "9")
    assert missing.output == "Error: there is no campaign 9 (campaigns: 1, 2, 3)\n"


def test_placeholder_public_url_refuses_confirm(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(1)
    kom = send_ws / "newsletters" / "kom.yaml"
    kom.write_text(kom.read_text("utf-8").replace(PUBLIC_URL, "https://nyhetsbrev.example.org"))
    result = cli(*REAL)
    assert result.exit_code == 1
    assert result.output.endswith(
        "Error: cannot send for real yet:\n  - newsletters/kom.yaml: public_url is a placeholder "
        "(https://nyhetsbrev.example.org), so the unsubscribe links would not work: set it to the "
        "address where `nyhetsbrev serve` answers\n"
    )
    assert cli(*SEND, "--test", "me@example.no", "--allow-warnings").exit_code == 0
    assert smtp_sink.count() == 1  # a test send is allowed


def test_contact_who_unsubscribes_during_the_send_is_skipped(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    ids = contacts(4)

    def leave(_: object) -> None:
        if smtp_sink.count() == 1:  # right after the first message: number 3 clicks the link
            with open_store(database(send_ws)) as store:
                store.unsubscribe(ids[2], actor="web", source="link")

    smtp_sink.on_message = leave
    result = cli(*REAL)
    assert result.exit_code == 0, result.output
    assert "in all 3 sent, 0 failed, 0 uncertain, 1 skipped, 0 not yet sent" in result.output
    assert "person3@example.no" not in smtp_sink.per_recipient()
    assert [(r["address"], r["outcome"], r["smtp_reply"]) for r in report(send_ws, 1)][2] == (
        "person3@example.no",
        "skipped",
        "contact is now unsubscribed",
    )


def test_faults_give_the_right_outcomes(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(7)
    smtp_sink.fault("rcpt", "person1@example.no", "451 4.7.1 Greylisted, try later", times=2)
    smtp_sink.fault("rcpt", "person2@example.no", "550 5.1.1 <person2@example.no>: unknown user")
    smtp_sink.fault("data", "person3@example.no", "554 5.7.1 Rejected as spam")
    smtp_sink.fault("data", "person4@example.no", "accept-and-drop")
    smtp_sink.fault("rcpt", "person5@example.no", "421 4.7.0 Too busy, closing")
    smtp_sink.fault("rcpt", "person6@example.no", "drop")
    smtp_sink.fault("rcpt", "person7@example.no", "452 4.2.2 Mailbox full", times=99)
    result = cli(*REAL, "--retry-delay", "0.05")
    assert result.exit_code == 0, result.output
    outcomes = {
        r["address"]: (r["outcome"], r["attempts"], r["smtp_reply"]) for r in report(send_ws, 1)
    }
    assert outcomes == {
        "person1@example.no": ("sent", "3", "250 2.0.0 Ok: queued"),
        "person2@example.no": ("failed", "1", "550 5.1.1 <[address]>: unknown user"),
        "person3@example.no": ("failed", "1", "554 5.7.1 Rejected as spam"),
        "person4@example.no": (
            "uncertain",
            "1",
            "no answer after the message: Connection unexpectedly closed",
        ),
        "person5@example.no": ("sent", "1", "250 2.0.0 Ok: queued"),
        "person6@example.no": ("sent", "1", "250 2.0.0 Ok: queued"),
        "person7@example.no": ("failed", "4", "452 4.2.2 Mailbox full"),
    }
    assert smtp_sink.per_recipient() == {
        "person1@example.no": 1,
        "person4@example.no": 1,
        "person5@example.no": 1,
        "person6@example.no": 1,
    }
    lines = body(result.output)
    assert "in all 3 sent, 3 failed, 1 uncertain, 0 skipped, 0 not yet sent." in lines[1]
    assert lines[2:] == [
        "Failed:",
        "  person2@example.no — 550 5.1.1 <[address]>: unknown user",
        "  person3@example.no — 554 5.7.1 Rejected as spam",
        "  person7@example.no — 452 4.2.2 Mailbox full",
        "Report: contacts/reports/campaign-1-2024-q4.csv",
        "Next: 1 failed for now (4xx, still after every try): the server may take them later; "
        "try them again with: nyhetsbrev send 2024-q4 --resume --retry-failed --rate=0 "
        "--retry-delay=0.05 --allow-warnings --allow-placeholder-links",
        "Next: 2 refused (5xx: the address or the message; see the report): correct or remove "
        "those addresses; to try them anyway: nyhetsbrev send 2024-q4 --resume --retry-failed "
        "--retry-permanent --rate=0 --retry-delay=0.05 --allow-warnings --allow-placeholder-links",
        "Next: 1 uncertain (the connection broke after the message was sent): look up their "
        "Message-ID (in the report) in the SMTP server's log (Exchange: message trace); to send "
        "those not found again: nyhetsbrev send 2024-q4 --resume --resend-uncertain --rate=0 "
        "--retry-delay=0.05 --allow-warnings --allow-placeholder-links",
    ]
    # each command, run verbatim, does what it says: first the temporary failures only
    smtp_sink.faults.clear()
    commands = [line.rsplit(": ", 1)[1].split()[1:] for line in lines if line.startswith("Next:")]
    assert cli(*commands[0]).exit_code == 0
    assert sorted(smtp_sink.per_recipient()) == [f"person{i}@example.no" for i in (1, 4, 5, 6, 7)]
    assert cli(*commands[1]).exit_code == 0  # then the permanent ones too
    assert cli(*commands[2]).exit_code == 0
    assert smtp_sink.per_recipient()["person4@example.no"] == 2  # the uncertain one, resent
    others = {a: n for a, n in smtp_sink.per_recipient().items() if a != "person4@example.no"}
    assert others == {f"person{i}@example.no": 1 for i in (1, 2, 3, 5, 6, 7)}


def test_consecutive_errors_pause_with_the_resume_command(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(5)
    smtp_sink.fault("data", None, "554 5.6.0 Message content rejected", times=3)
    result = cli(*REAL, "--max-errors", "3")
    assert result.exit_code == 1
    assert result.output.endswith(
        "Error: paused: 3 errors in a row (the last: 554 5.6.0 Message content rejected). To "
        "continue, run: nyhetsbrev send 2024-q4 --resume --rate=0 --max-errors=3 "
        "--allow-warnings --allow-placeholder-links\n"
    )
    resumed = cli(
        "send",
        ISSUE,
        "--resume",
        "--rate=0",
        "--allow-warnings",
        "--allow-placeholder-links",
        "--retry-failed",
    )
    assert resumed.exit_code == 0, resumed.output
    assert "Campaign 1 (2024-q4): 2 to send." in resumed.output  # 5xx stay failed
    assert sorted(smtp_sink.per_recipient().values()) == [1] * 2
    again = cli("send", ISSUE, "--resume", "--retry-failed", "--retry-permanent")
    assert again.exit_code == 0, again.output  # --rate=0 --allow-warnings: kept by the campaign
    assert "Campaign 1 (2024-q4): 3 to send." in again.output
    assert sorted(smtp_sink.per_recipient().values()) == [1] * 5


def test_daily_cap_pauses(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(3)
    result = cli(*REAL, "--daily-cap", "2")
    assert result.exit_code == 1
    assert re.search(
        r"Error: paused: the daily cap of 2 messages is reached; resume tomorrow \(after "
        r"\d{4}-\d\d-\d\d \d\d:\d\d\)\. To continue, run: nyhetsbrev send 2024-q4 --resume "
        r"--rate=0 --daily-cap=2 --allow-warnings --allow-placeholder-links\n$",
        result.output,
    )
    assert smtp_sink.count() == 2


def test_resume_refuses_a_changed_build_and_a_second_campaign(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(4)
    smtp_sink.fault("rcpt", None, "451 4.3.0 Try later", times=99)
    paused = cli(*REAL, "--max-errors", "1")
    assert paused.exit_code == 1
    issue = send_ws / "newsletters" / ISSUE / "issue.yaml"
    issue.write_text(
        issue.read_text("utf-8").replace("Utviklingsarbeid i JD", "Utviklingsarbeidet i JD"),
        "utf-8",
    )
    changed = cli("send", ISSUE, "--resume", "--allow-warnings", "--allow-placeholder-links")
    assert changed.exit_code == 1
    assert changed.output.endswith(
        "Error: 2024-q4 changed since campaign 1 began: its build (or subject, sender or "
        "public_url) is not what the first recipients got. Undo the change to finish the campaign "
        "as it began, or start a new campaign with the new content: nyhetsbrev send 2024-q4 "
        "--confirm --new-campaign (recipients who already got the issue are left out unless "
        "--again)\n"
    )
    second = cli(*REAL)
    assert second.exit_code == 1
    assert second.output.endswith(
        "Error: campaign 1 for 2024-q4 is unfinished (paused, 0 sent, 4 not yet): continue it "
        "with `nyhetsbrev send 2024-q4 --resume`, or start over with --confirm --new-campaign "
        "(recipients who already got the issue are left out unless --again)\n"
    )
    smtp_sink.faults.clear()
    fresh = cli(*REAL, "--new-campaign")
    assert fresh.exit_code == 0, fresh.output
    assert body(fresh.output)[0] == (
        "Campaign 1 cancelled (4 not sent there, 0 delivery(ies) uncertain)."
    )
    assert (
        "Outcomes: 0 pending, 0 sending, 0 sent, 0 failed, 0 uncertain, 4 skipped"
        in cli("campaigns", "show", "1").output
    )
    assert (
        "Utviklingsarbeidet i JD"
        in smtp_sink.received[0].message.get_body(("plain",)).get_content()
    )
    assert smtp_sink.count() == 4
    nothing = cli("send", ISSUE, "--resume", "--allow-warnings", "--allow-placeholder-links")
    assert nothing.output.endswith(
        "Error: there is no unfinished campaign for 2024-q4 to resume (campaign 2 is finished): "
        "start one with `nyhetsbrev send 2024-q4 --confirm` (`nyhetsbrev campaigns` lists them "
        "all)\n"
    )


def test_uncertain_deliveries_are_listed_and_resent_only_when_asked(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(3)
    smtp_sink.fault("data", "person2@example.no", "drop")  # lost before being recorded
    assert cli(*REAL).exit_code == 0
    assert "person2@example.no" not in smtp_sink.per_recipient()
    resend = cli(
        "send",
        ISSUE,
        "--resume",
        "--resend-uncertain",
        "--rate=0",
        "--allow-warnings",
        "--allow-placeholder-links",
    )
    assert resend.exit_code == 0, resend.output
    assert body(resend.output)[:2] == [
        "0 delivery(ies) were interrupted mid-transaction and are now uncertain; 1 put back in "
        "the queue.",
        "Campaign 1 (2024-q4): 1 to send.",
    ]
    assert sorted(smtp_sink.per_recipient().values()) == [1, 1, 1]


def test_rate_limit_is_kept(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(5)
    started = time.monotonic()
    result = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "120"
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert smtp_sink.count() == 5
    # The limiter waits: starts at 0, 0.5, 1.0, 1.5 and 2.0 s. (No upper bound: speed is the
    # bench's business, and a loaded machine may be slower.)
    assert elapsed >= 2.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--confirm", "--test", "a@example.no"), "choose one of --confirm or --test"),
        (("--resend-uncertain",), "--resend-uncertain goes with --resume"),
        (
            ("--confirm", "--write-eml", "x"),
            "--write-eml is for the dry run: leave out --confirm/--test/--resume",
        ),
        (
            ("--resume", "--topic", "x"),
            "--resume continues the campaign with the audience and attachment it began with: leave "
            "out --topic, --sector, --lang, --again and --attach-pdf",
        ),
    ],
)
def test_usage_errors(send_ws: Path, cli: Any, args: tuple[str, ...], message: str) -> None:
    result = cli(*SEND, *args)
    assert result.exit_code == 2
    assert result.output.endswith(f"Error: {message}\n")


def test_contacts_unsubscribe_applies_a_token(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    store: ContactStore,
) -> None:
    [contact_id] = contacts(1)
    assert cli(*REAL).exit_code == 0
    header = smtp_sink.received[0].message["List-Unsubscribe"]
    link = header.split(">")[0].lstrip("<")
    altered = link[:-10] + ("B" if link[-10] == "A" else "A") + link[-9:]
    bad = cli("contacts", "unsubscribe", "--token", altered)
    assert bad.exit_code == 1
    assert bad.output == (
        "Error: this unsubscribe token cannot be used: the link's signature does not match: it "
        "was altered, or not made with this site's key (NYHETSBREV_SECRET_KEY changed since it "
        "was sent?)\n"
    )
    result = cli("contacts", "unsubscribe", "--token", link)
    assert result.exit_code == 0, result.output
    assert result.output == "Unsubscribed person1@example.no.\n"
    assert store.get_by_id(contact_id).status == "unsubscribed"  # type: ignore[union-attr]
    [event] = [e for e in store.events(contact_id) if e.kind == "unsubscribed"]
    assert event.detail == "link"
    token = link.rsplit("/", 1)[1]
    again = cli("contacts", "unsubscribe", "--token", token)
    assert again.output == "person1@example.no was already unsubscribed; nothing changed.\n"


def test_attach_pdf_sends_the_built_pdf_edition(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(1)
    pdf = send_ws / "build" / ISSUE / "kom-nyhetsbrev-2024-q4.pdf"
    dry = cli(*SEND, "--attach-pdf")
    assert "(text and HTML, PDF attached (kom-nyhetsbrev-2024-q4.pdf))" in dry.output
    result = cli(*REAL, "--attach-pdf")
    assert result.exit_code == 0, result.output
    message = smtp_sink.received[0].message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attached = message.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == pdf.name
    assert attached.get_content() == pdf.read_bytes()
    assert "PDF:      attached" in cli("campaigns", "show", "1").output


def test_server_unusable_mid_send_pauses_and_loses_nothing(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(4)

    def refuse_sender_after_two(_: object) -> None:
        if smtp_sink.count() == 2:
            smtp_sink.fault("mail", None, "550 5.7.60 SendAsDenied; not allowed to send as")

    smtp_sink.on_message = refuse_sender_after_two
    result = cli(*REAL)
    assert result.exit_code == 1
    assert result.output.endswith(
        f"Error: the SMTP server {smtp_sink.url} refused the sender KOM.pod@politiet.no: 550 "
        "5.7.60 SendAsDenied; not allowed to send as — check that the account may send as the "
        "publication's sender address\nCampaign 1 is paused (report: "
        "contacts/reports/campaign-1-2024-q4.csv). To continue, run: nyhetsbrev send 2024-q4 "
        "--resume --rate=0 --allow-warnings --allow-placeholder-links\n"
    )
    outcomes = [(r["address"], r["outcome"]) for r in report(send_ws, 1)]
    assert outcomes[2] == ("person3@example.no", "pending")
    smtp_sink.on_message = None
    assert (
        cli(
            "send", ISSUE, "--resume", "--rate=0", "--allow-warnings", "--allow-placeholder-links"
        ).exit_code
        == 0
    )
    assert sorted(smtp_sink.per_recipient().values()) == [1, 1, 1, 1]


def test_dry_run_names_what_is_wrong_with_a_set_but_incomplete_smtp_setting(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tried as a new user: a URL and `m365` without the app registration said "not configured:
    set NYHETSBREV_SMTP_URL", which was set. The dry run says what is missing instead."""
    contacts(2)
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://kom@politiet.no@smtp.office365.com:587")
    monkeypatch.setenv("NYHETSBREV_SMTP_AUTH", "m365")
    for name in ("TENANT_ID", "CLIENT_ID", "CLIENT_CERTIFICATE", "CLIENT_SECRET"):
        monkeypatch.delenv(f"NYHETSBREV_M365_{name}", raising=False)
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    smtp = next(line for line in result.output.splitlines() if line.startswith("SMTP:"))
    assert "not configured: set NYHETSBREV_SMTP_URL" not in smtp
    assert smtp.startswith(
        "SMTP:     not usable: NYHETSBREV_SMTP_AUTH=m365 needs NYHETSBREV_M365_TENANT_ID"
    )
