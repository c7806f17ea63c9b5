"""A real IMAP server for the tests: Debian's Dovecot on loopback, from a throw-away config.

Everything lives in a temporary folder (base_dir, state_dir, the log, the maildir); the passdb and
userdb are static (one password, any user name); the mail user is `nobody`, since Dovecot refuses
root as a mail user; the package's own `dovecot` and `dovenull` users run the internal and login
processes. Stopped with `doveadm -c CONFIG stop`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import require_tool
from tests.delivery.conftest import free_port

PASSWORD = "imap-test-password"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
{capability}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Dovecot:
    """A running server: where it listens and how to log in."""

    root: Path
    port: int
    tls_port: int = 0  # imaps, with `certificate` (for 127.0.0.1), when started with TLS
    certificate: Path | None = None
    password: str = PASSWORD

    def url(self, user: str = "kom@politiet.no", folder: str = "INBOX") -> str:
        return f"imap://{user}@127.0.0.1:{self.port}/{folder}"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl, a day)."""
    openssl = require_tool("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return cert, key


# Dovecot 2.3's capabilities after login, without MOVE (RFC 6851): a server that can only COPY.
WITHOUT_MOVE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY SPECIAL-USE"
)


@pytest.fixture
def dovecot_tls() -> Iterator[Dovecot]:
    """The same server with TLS: STARTTLS on the plain port, and imaps."""
    yield from _dovecot(tls=True)


@pytest.fixture
def dovecot_without_move() -> Iterator[Dovecot]:
    """The same server, saying it cannot MOVE."""
    yield from _dovecot(tls=False, capability=f"imap_capability = {WITHOUT_MOVE}")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    yield from _dovecot(tls=False)


def _dovecot(*, tls: bool, capability: str = "") -> Iterator[Dovecot]:
    binary = require_tool("/usr/sbin/dovecot")
    doveadm = require_tool("doveadm")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's test server needs root here (it switches to the mail user)")
    mail_user = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="nyhetsbrev-dovecot-"))
    root.chmod(0o755)  # the mail user must reach its maildir
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    for name in ("mail", "home"):
        os.chown(root / name, mail_user.pw_uid, mail_user.pw_gid)
    port, tls_port = free_port(), (free_port() if tls else 0)
    certificate: Path | None = None
    ssl = "ssl = no"
    if tls:
        certificate, key = make_certificate(root)
        key.chmod(0o644)  # read by dovecot's processes
        ssl = f"ssl = required\nssl_cert = <{certificate}\nssl_key = <{key}"
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            tls_port=tls_port,
            ssl=ssl,
            capability=capability,
            password=PASSWORD,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
        )
    )
    # The daemon keeps its standard streams: a pipe here would never reach end-of-file.
    with (root / "start.log").open("w") as output:
        started = subprocess.run(
            [binary, "-c", str(config)], stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    if started.returncode != 0:
        said = (root / "start.log").read_text()
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"dovecot did not start: {said}")
    try:
        _wait_for_port(port, root)
        if tls_port:
            _wait_for_port(tls_port, root)
        yield Dovecot(root, port, tls_port, certificate)
    finally:
        subprocess.run(
            [doveadm, "-c", str(config), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port: int, root: Path) -> None:
    import socket

    end = time.monotonic() + 20
    while time.monotonic() < end:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
    pytest.fail(f"dovecot did not listen on 127.0.0.1:{port}:\n{log}")
