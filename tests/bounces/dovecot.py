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
ssl = no
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
    port = 0
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
    password: str = PASSWORD

    def url(self, user: str = "kom@politiet.no", folder: str = "INBOX") -> str:
        return f"imap://{user}@127.0.0.1:{self.port}/{folder}"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
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
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root, port=port, password=PASSWORD, uid=mail_user.pw_uid, gid=mail_user.pw_gid
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
        yield Dovecot(root, port)
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
