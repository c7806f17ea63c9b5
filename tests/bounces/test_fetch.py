"""`nyhetsbrev bounces fetch` against a real IMAP server (Dovecot on loopback), end to end: send
an issue to the loopback SMTP server, bounce some of what it received into the mailbox, fetch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from tests.bounces.conftest import SEND, auto_reply, dsn
from tests.bounces.dovecot import Dovecot
from tests.delivery.conftest import Sink, database

from nyhetsbrev.bounces.imap import KEYWORD, ImapSettings, access_token
from nyhetsbrev.contacts.store import open_store
from nyhetsbrev.errors import BouncesError

USER = "kom.pod@politiet.no"
PERSON = (
    b"From: Sara <sara@kommune.example.no>\r\nTo: KOM.pod@politiet.no\r\n"
    b"Subject: Re: Nyhetsbrev\r\nMessage-ID: <sara.1@kommune.example.no>\r\n\r\nTakk!\r\n"
)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[IMAPClient]:
    client = IMAPClient("127.0.0.1", dovecot.port, ssl=False)
    client.login(USER, dovecot.password)
    yield client
    client.logout()


@pytest.fixture
def imap_env(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_IMAP_URL", dovecot.url(USER))
    monkeypatch.setenv("NYHETSBREV_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("NYHETSBREV_IMAP_PLAIN_LOOPBACK", "1")


def folder(client: IMAPClient, name: str) -> dict[int, set[bytes]]:
    client.select_folder(name, readonly=True)
    found = client.get_flags(client.search(["ALL"]))
    return {uid: set(flags) for uid, flags in found.items()}


def test_fetch_records_moves_and_finds_nothing_new_the_second_time(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    mailbox: IMAPClient,
    imap_env: None,
) -> None:
    contacts(4)
    assert cli(*SEND).exit_code == 0
    got = {r.rcpt_tos[0]: r for r in smtp_sink.received}
    for data in (
        dsn(got["person1@example.no"]),
        dsn(got["person2@example.no"], "4.2.2", "452 4.2.2 Mailbox full"),
        auto_reply(got["person3@example.no"]),
        PERSON,
    ):
        mailbox.append("INBOX", data)

    dry = cli("bounces", "fetch")
    assert dry.exit_code == 0, dry.output
    shown = f"imap://{USER}@127.0.0.1:{mailbox.port}/INBOX"
    assert dry.output.splitlines()[0] == (
        f"Read 4 messages from {shown}: 2 bounces, 1 auto-reply (not a bounce: ignored), "
        "1 other message."
    )
    assert (
        "      INBOX UID 1: contact would be marked bounced: 5.1.1: the address does not exist or is disabled"
        in dry.output
    )
    assert dry.output.splitlines()[-1] == (
        "Nothing was changed. To record them, run: nyhetsbrev bounces fetch --apply"
    )
    assert all(KEYWORD.encode() not in flags for flags in folder(mailbox, "INBOX").values())
    assert all(b"\\Seen" not in flags for flags in folder(mailbox, "INBOX").values())

    applied = cli("bounces", "fetch", "--apply", "--move-to", "Nyhetsbrev/Behandlet")
    assert applied.exit_code == 0, applied.output
    assert "Recorded 2 bounces and marked 1 contact bounced." in applied.output
    assert applied.output.splitlines()[-1] == (
        "Marked 4 message(s) as processed; 3 bounce(s) and auto-replies moved to "
        "Nyhetsbrev/Behandlet."
    )
    with open_store(database(send_ws)) as store:
        person1 = store.find("person1@example.no")
        assert person1.status == "bounced"
        kinds = [e.kind for e in store.events(person1.id)]
        assert kinds[-2:] == ["bounce", "bounced"]
        assert store.find("person2@example.no").status == "subscribed"
        assert [e.kind for e in store.events(store.find("person2@example.no").id)][-1] == "bounce"
    inbox = folder(mailbox, "INBOX")
    assert len(inbox) == 1 and KEYWORD.encode() in next(iter(inbox.values()))  # the person's mail
    moved = folder(mailbox, "Nyhetsbrev/Behandlet")
    assert len(moved) == 3 and all(KEYWORD.encode() in flags for flags in moved.values())

    second = cli("bounces", "fetch", "--apply", "--move-to", "Nyhetsbrev/Behandlet")
    assert second.exit_code == 0, second.output
    assert second.output == f"No new messages in {shown}.\n"

    mailbox.append("INBOX", dsn(got["person4@example.no"]))
    third = cli("bounces", "fetch", "--apply")
    assert third.exit_code == 0, third.output
    assert third.output.startswith(f"Read 1 message from {shown}: 1 bounce.")
    assert len(folder(mailbox, "INBOX")) == 2  # without --move-to: marked, left in place


def test_refusals(
    send_ws: Path,
    cli: Any,
    dovecot: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NYHETSBREV_IMAP_URL", dovecot.url(USER))
    monkeypatch.setenv("NYHETSBREV_IMAP_PASSWORD", "wrong")
    shown = f"imap://{USER}@127.0.0.1:{dovecot.port}/INBOX"
    plain = cli("bounces", "fetch")
    assert plain.exit_code == 1
    assert plain.output == (
        f"Error: {shown} does not offer STARTTLS, so the login would travel in clear — use "
        "imaps:// (993); only a server on loopback may be used without TLS, and only with "
        "NYHETSBREV_IMAP_PLAIN_LOOPBACK=1\n"
    )
    monkeypatch.setenv("NYHETSBREV_IMAP_PLAIN_LOOPBACK", "1")
    wrong = cli("bounces", "fetch")
    assert wrong.exit_code == 1
    assert wrong.output.startswith(f"Error: {shown} refused the login for {USER}: ")
    assert wrong.output.endswith("— check NYHETSBREV_IMAP_PASSWORD\n")
    assert "wrong" not in wrong.output


def test_without_move_the_messages_are_copied_and_keep_the_keyword(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    dovecot_without_move: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = dovecot_without_move
    monkeypatch.setenv("NYHETSBREV_IMAP_URL", server.url(USER))
    monkeypatch.setenv("NYHETSBREV_IMAP_PASSWORD", server.password)
    monkeypatch.setenv("NYHETSBREV_IMAP_PLAIN_LOOPBACK", "1")
    contacts(1)
    assert cli(*SEND).exit_code == 0
    client = IMAPClient("127.0.0.1", server.port, ssl=False)
    client.login(USER, server.password)
    assert not client.has_capability("MOVE")
    client.append("INBOX", dsn(smtp_sink.received[0]))
    result = cli("bounces", "fetch", "--apply", "--move-to", "Behandlet")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Marked 1 message(s) as processed; 1 bounce(s) and auto-replies copied to Behandlet "
        "(the server has no MOVE: the originals stay, marked)."
    )
    for name in ("INBOX", "Behandlet"):
        flags = folder(client, name)
        assert len(flags) == 1 and KEYWORD.encode() in next(iter(flags.values()))
    client.logout()
    again = cli("bounces", "fetch", "--apply", "--move-to", "Behandlet")
    assert again.output.startswith("No new messages in ")


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_tls_imaps_and_starttls(
    send_ws: Path, cli: Any, dovecot_tls: Dovecot, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """imaps:// and imap:// (STARTTLS) with a certificate the test trusts (SSL_CERT_FILE)."""
    assert dovecot_tls.certificate is not None
    port = dovecot_tls.tls_port if scheme == "imaps" else dovecot_tls.port
    monkeypatch.setenv("NYHETSBREV_IMAP_URL", f"{scheme}://{USER}@127.0.0.1:{port}/INBOX")
    monkeypatch.setenv("NYHETSBREV_IMAP_PASSWORD", dovecot_tls.password)
    monkeypatch.delenv("NYHETSBREV_IMAP_PLAIN_LOOPBACK", raising=False)
    untrusted = cli("bounces", "fetch")
    assert untrusted.exit_code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.output  # the certificate is checked
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.certificate))
    result = cli("bounces", "fetch")
    assert result.exit_code == 0, result.output
    assert result.output == f"No new messages in {scheme}://{USER}@127.0.0.1:{port}/INBOX.\n"


def test_settings_from_the_environment() -> None:
    settings = ImapSettings.from_env(
        {
            "NYHETSBREV_IMAP_URL": "imaps://KOM.pod@politiet.no@outlook.office365.com/Innboks%2FNDR",
            "NYHETSBREV_IMAP_PASSWORD": "s3cret",
        }
    )
    assert settings.display == "imaps://KOM.pod@politiet.no@outlook.office365.com:993/Innboks/NDR"
    assert "s3cret" not in repr(settings)
    cases = {
        "": "NYHETSBREV_IMAP_URL is not set",
        "pop3://x@h/INBOX": 'NYHETSBREV_IMAP_URL must start with imaps:// (TLS) or imap:// (STARTTLS), not "pop3://"',
        "imaps://x:pw@h/INBOX": "NYHETSBREV_IMAP_URL contains a password",
        "imaps://h/INBOX": "NYHETSBREV_IMAP_URL must name the user and the host",
    }
    for url, message in cases.items():
        with pytest.raises(BouncesError) as caught:
            ImapSettings.from_env({"NYHETSBREV_IMAP_URL": url, "NYHETSBREV_IMAP_PASSWORD": "p"})
        assert caught.value.message.startswith(message)
    with pytest.raises(BouncesError, match="neither NYHETSBREV_IMAP_PASSWORD nor"):
        ImapSettings.from_env({"NYHETSBREV_IMAP_URL": "imaps://u@h/INBOX"})


def test_token_command(tmp_path: Path) -> None:
    """The XOAUTH2 token comes from a real command's output (the loopback Dovecot has no OAuth2
    introspection endpoint, so the SASL exchange itself is imapclient's `oauth2_login`)."""
    script = tmp_path / "token.sh"
    script.write_text("#!/bin/sh\necho eyJ0eXAi.token.value\n")
    script.chmod(0o755)
    assert access_token(str(script)) == "eyJ0eXAi.token.value"
    failing = tmp_path / "fail.sh"
    failing.write_text("#!/bin/sh\necho 'AADSTS700016: app not found' >&2\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(BouncesError) as caught:
        access_token(str(failing))
    assert caught.value.message == (
        "NYHETSBREV_IMAP_OAUTH_TOKEN_COMMAND failed (exit code 3): AADSTS700016: app not found"
    )
