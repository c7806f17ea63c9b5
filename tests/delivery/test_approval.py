"""Four eyes through the CLI: `approve`, `approvals` and `send --confirm` with two editors (anne
sends, kari approves), on SQLite and PostgreSQL, against a loopback SMTP server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.delivery.conftest import APPROVAL_OFF, APPROVAL_ON, ISSUE, Sink

REAL = ("send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0")
KARI = {"NYHETSBREV_ACTOR": "kari"}
REFUSED = "Error: 2024-q4 cannot be sent: newsletters/kom.yaml says `approval: required`, and\n  - "
ADVICE = (
    "Ask someone else to read the test send or the preview, then to run: "
    "nyhetsbrev approve 2024-q4 (nothing was sent)\n"
)


@pytest.fixture
def db(database_url: str, send_ws: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The send workspace on SQLite or PostgreSQL, with KOM's `approval: required` back on."""
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", database_url)
    kom = send_ws / "newsletters" / "kom.yaml"
    kom.write_text(kom.read_text("utf-8").replace(APPROVAL_OFF, APPROVAL_ON), "utf-8")
    return database_url


def edit_issue(root: Path, old: str, new: str) -> None:
    time.sleep(0.01)  # strictly newer than the build, so the next command rebuilds
    path = root / "newsletters" / ISSUE / "issue.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def error_of(result: Any) -> str:
    return result.output[result.output.index("Error: ") :]


def test_four_eyes_end_to_end(
    db: str, send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(3)
    unapproved = cli(*REAL)
    assert unapproved.exit_code == 1
    assert error_of(unapproved) == REFUSED + "it is not approved\n" + ADVICE

    own = cli("approve", ISSUE, "--note", "my own work")
    assert own.exit_code == 0, own.output
    assert "Approval 1: anne approved 2024-q4 (content hash " in own.output
    assert "Warnings: 120 editorial (`nyhetsbrev check 2024-q4` lists them)" in own.output
    assert "Someone other than anne can now send it: nyhetsbrev send 2024-q4 --confirm." in (
        own.output
    )
    self_approved = cli(*REAL)
    assert self_approved.exit_code == 1
    assert error_of(self_approved) == (
        REFUSED + "it is approved by yourself (anne, approval 1): the four-eyes rule needs "
        "someone other than the sender to approve it\n" + ADVICE
    )

    approved = cli("approve", ISSUE, "--note", "read the test send", env=KARI)
    assert approved.exit_code == 0, approved.output
    assert "Approval 2: kari approved 2024-q4" in approved.output
    edit_issue(send_ws, "title: KOM publikasjoner", "title: KOMs publikasjoner")
    changed = cli(*REAL)
    assert changed.exit_code == 1
    error = error_of(changed)
    assert error.startswith(REFUSED + "it was approved by kari on ")
    assert error.endswith(
        '(approval 2), but it changed since: sections changed: "KOMs hovedaktiviteter i '
        'oktober–desember"\n' + ADVICE  # as the editions set it (typography)
    )
    assert smtp_sink.count() == 0

    other_audience = cli(*REAL, "--topic", "tilstandsrapport")
    assert other_audience.exit_code == 1
    assert "this send goes to topic tilstandsrapport" in other_audience.output

    dry = cli("send", ISSUE)
    assert "\nApproval: required, and it was approved by kari on " in dry.output
    again = cli("approve", ISSUE, env=KARI)
    assert again.exit_code == 0, again.output
    assert "\nApproval: approved by kari on " in cli("send", ISSUE).output
    sent = cli(*REAL)
    assert sent.exit_code == 0, sent.output
    assert smtp_sink.count() == 3
    assert "KOMs publikasjoner" in smtp_sink.received[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    shown = cli("campaigns", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "Sent by:  anne\n" in shown.output
    assert "Approved: by kari on " in shown.output
    assert "(approval 3)\n" in shown.output

    listed = cli("approvals", ISSUE)
    assert listed.exit_code == 0, listed.output
    lines = [line.split("  ", 1)[1] for line in listed.output.splitlines()]
    assert lines[0].startswith("approval 1: anne approved ")
    assert "(an earlier build; subscribed, topic nyhetsbrev)" in lines[0]
    assert lines[0].endswith(' — "my own work"')
    assert lines[1].startswith("approval 2: kari approved ")
    assert lines[1].endswith(
        '(an earlier build; subscribed, topic nyhetsbrev) — "read the test send"'
    )
    assert lines[2].startswith("approval 3: kari approved ")
    assert lines[2].endswith("(the current build; subscribed, topic nyhetsbrev)")
    assert lines[3] == "campaign 1: sent by anne, under approval 3; finished, 3 sent, 0 failed"


def test_test_sends_and_dry_runs_need_no_approval(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(2)
    tested = cli("send", ISSUE, "--test", "kari@example.org", "--allow-warnings")
    assert tested.exit_code == 0, tested.output
    assert smtp_sink.count() == 1
    assert cli("send", ISSUE).exit_code == 0


def test_a_tampered_approval_is_refused(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    """anne approves her own issue, then rewrites the row so that it names kari."""
    contacts(2)
    assert cli("approve", ISSUE).exit_code == 0
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE approvals SET actor = 'kari' WHERE id = 1"))
    engine.dispose()
    refused = cli(*REAL)
    assert refused.exit_code == 1
    assert error_of(refused) == (
        REFUSED + "approval 1 (by kari) does not verify: its row was changed in the database "
        "after it was recorded, or NYHETSBREV_SECRET_KEY is not the key it was made with — it "
        "does not count\n" + ADVICE
    )
    assert smtp_sink.count() == 0
    listed = cli("approvals", ISSUE)
    assert "DOES NOT VERIFY" in listed.output


def test_approve_needs_the_secret_key(db: str, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NYHETSBREV_SECRET_KEY")
    refused = cli("approve", ISSUE, env=KARI)
    assert refused.exit_code == 1
    assert refused.output.startswith(
        "Error: NYHETSBREV_SECRET_KEY is not set: approvals are signed with it, so that an "
        "approval edited in the database is detected."
    )


def test_an_issue_with_errors_cannot_be_approved(db: str, send_ws: Path, cli: Any) -> None:
    edit_issue(send_ws, "title: KOM publikasjoner", "title: ''")
    refused = cli("approve", ISSUE, env=KARI)
    assert refused.exit_code == 1
    assert refused.output.endswith(
        "fix these, then run `nyhetsbrev approve 2024-q4` again (nothing was approved).\n"
    )
    assert "has no approvals" in cli("approvals", ISSUE).output


def test_only_named_approvers_may_approve(
    db: str, send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    kom = send_ws / "newsletters" / "kom.yaml"
    kom.write_text(kom.read_text("utf-8").replace(APPROVAL_ON, APPROVAL_ON + "approvers: [kari]\n"))
    refused = cli("approve", ISSUE, env={"NYHETSBREV_ACTOR": "ola"})
    assert refused.exit_code == 1
    assert refused.output.endswith(
        "Error: ola may not approve 2024-q4: newsletters/kom.yaml names the approvers (kari). "
        "Approve as one of them (--actor NAME or NYHETSBREV_ACTOR), or add the name to "
        "`approvers:`\n"
    )
    contacts(1)
    assert cli("approve", ISSUE, "--actor", "kari").exit_code == 0
    assert cli(*REAL).exit_code == 0
    assert smtp_sink.count() == 1


TEXT = """Nyhetsbrev fra KOM

- Verdt å merke seg
- Arrangementer


Verdt å merke seg
=================

Ny veileder
-----------

Tekst.


Arrangementer
=============

Kurs i mai.


Verdt å merke seg
=================

Mer.
"""


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("Tekst.", "Tekst!", ['"Verdt å merke seg"']),
        ("Mer.", "Mer!", ['"Verdt å merke seg (2nd)"']),
        ("- Arrangementer", "- Kurs", ["the cover and contents"]),
        (
            "Arrangementer\n=============",
            "Kurs\n====",
            ['"Kurs" (new)', '"Arrangementer" (removed)'],
        ),
        ("Tekst.", "Tekst.", []),
    ],
)
def test_changed_sections_by_heading(old: str, new: str, changed: list[str]) -> None:
    from nyhetsbrev.delivery.approval.changes import changed_sections

    assert changed_sections(TEXT, TEXT.replace(old, new)) == changed


def test_a_new_workspace_requires_approval(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nyhetsbrev.issue.load import load
    from nyhetsbrev.workspace import Workspace

    monkeypatch.chdir(tmp_path)
    assert (
        cli("init", "mitt", "--example", "kom").exit_code == 0
    )  # (the neutral starters: test_init)
    kom = tmp_path / "mitt" / "newsletters" / "kom.yaml"
    text = kom.read_text("utf-8")
    assert APPROVAL_ON in text and "writes `approval: none` instead" in text
    issue_id = next(p.name for p in kom.parent.iterdir() if p.is_dir())
    loaded, _ = load(Workspace.find(str(tmp_path / "mitt")), issue_id)
    assert loaded is not None and loaded.publication.approval == "required"
    kom.write_text(text.replace(APPROVAL_ON, APPROVAL_OFF), "utf-8")  # the one-person team
    loaded, _ = load(Workspace.find(str(tmp_path / "mitt")), issue_id)
    assert loaded is not None and loaded.publication.approval == "none"
