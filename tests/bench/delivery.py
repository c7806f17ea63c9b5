"""Benchmark: sending the reference issue to N subscribers through a loopback aiosmtpd sink (its
own process), interleaved with a bare smtplib loop that sends the very same messages.

The first campaign is recorded by the sink (envelope and bytes of every message); the bare loop
then replays exactly those messages over one connection with `smtplib.sendmail`, so both sides
send the same number of the same bytes (the sink counts them, and the bench checks). Then A B A B:
`nyhetsbrev send` as the real campaign — queueing the audience in the SQLite ledger, then per
message the claim, the substitution, the SMTP transaction and the `sent` record, rate limit off —
each run on a fresh copy of the same list, against the bare replay. Every run is a fresh
(spawned) process; memory is its own VmHWM.

The second figure is the same pair with OAuth on (issue 10): the sink is the test suite's
XOAUTH2 server (tests/delivery/conftest.py's OAuthSink, requiring STARTTLS with a certificate
from tests/delivery/pki.py's test CA); `nyhetsbrev send` runs with NYHETSBREV_SMTP_AUTH=xoauth2,
a real token command and the test CA, the bare loop does starttls + AUTH XOAUTH2 with the same
token and replays what that campaign sent.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
import shlex
import shutil
import smtplib
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.harness import QUICK, REPO, Figure, Run, pair

ISSUE = "2024-q4"
SIZE = int(os.environ.get("NYHETSBREV_BENCH_SEND", "200" if QUICK else "500"))
ENV = {
    "NYHETSBREV_TODAY": "2024-12-20",
    "SOURCE_DATE_EPOCH": "1735000000",
    "NYHETSBREV_SECRET_KEY": "bench-secret-key-0123456789abcdef",
}
USER = "kom@politiet.no"
TOKEN = "bench-oauth-token"
TOKEN_COMMAND = shlex.join([
    sys.executable, "-c",
    f"import json; print(json.dumps({{'access_token': {TOKEN!r}, 'expires_in': 3600}}))",
])  # fmt: skip


def _hwm_mib() -> float:
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    return int(kib) / 1024


def _sink(ready: Any, record: str, counts: Any, pki: str) -> None:
    """An aiosmtpd server on loopback that counts, and records messages while `record`/on
    exists; with `pki` (a test CA's folder) the suite's XOAUTH2 sink behind STARTTLS."""
    from aiosmtpd.controller import Controller

    folder = Path(record)

    def count(mail_from: str, rcpt_tos: list[str], content: bytes) -> None:
        with counts.get_lock():
            counts[0] += 1
            counts[1] += len(content)
            seq = counts[0]
        if (folder / "on").exists():
            data = (mail_from, rcpt_tos, content)
            (folder / f"{seq:07d}.pickle").write_bytes(pickle.dumps(data))

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            count(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
            return "250 2.0.0 Ok: queued"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options: dict[str, Any] = {}
    handler: Any = Count()
    if pki:
        import logging

        from tests.delivery.conftest import OAuthSink, Received

        # aiosmtpd logs a warning about its own Session.login_data at every login: not ours
        logging.getLogger("mail.log").addFilter(lambda r: "login_data" not in r.getMessage())

        def counted(received: Received) -> None:
            count(received.mail_from, received.rcpt_tos, received.data)
            with sink.lock:
                sink.received.clear()  # counted (and recorded) instead of kept in memory
                counts[2] = len(sink.logins)

        sink = OAuthSink(user=USER, tokens={TOKEN}, on_message=counted, port=port)
        handler = sink
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(Path(pki) / "loopback.crt", Path(pki) / "loopback.key")
        options = {"tls_context": tls, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=0, **options)
    controller.start()
    ready.put(port)
    while True:
        time.sleep(3600)


def _bare(record: str, port: int, ca_file: str, out: Any) -> None:
    """smtplib.sendmail of the recorded messages (read beforehand) over one connection; with
    `ca_file`, after STARTTLS (trusting that CA) and AUTH XOAUTH2."""
    messages = [pickle.loads(p.read_bytes()) for p in sorted(Path(record).glob("*.pickle"))]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        if ca_file:
            smtp.starttls(context=ssl.create_default_context(cafile=ca_file))
            smtp.ehlo()  # again, encrypted: else smtplib takes the server's 503 for "logged in"
            code, reply = smtp.auth(
                "XOAUTH2", lambda challenge=None: f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"
            )
            assert code == 235, (code, reply)
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    out.put({"seconds": time.perf_counter() - started, "sent": len(messages), "peak": _hwm_mib()})


def _campaign(root: str, database: str, port: int, ca_file: str, out: Any) -> None:
    """The real thing: start a campaign (queue the audience) and run it, rate limit off; with
    `ca_file`, as kom@politiet.no over OAuth2 (XOAUTH2, a token command), trusting that CA."""
    os.environ.update(ENV, NYHETSBREV_SMTP_URL=f"smtp://127.0.0.1:{port}")
    if ca_file:
        os.environ.update(
            NYHETSBREV_SMTP_URL=f"smtp://kom%40politiet.no@127.0.0.1:{port}",
            NYHETSBREV_SMTP_AUTH="xoauth2",
            NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND=TOKEN_COMMAND,
            NYHETSBREV_SMTP_CA_FILE=ca_file,
        )
    os.environ["NYHETSBREV_DATABASE_URL"] = database
    from nyhetsbrev.delivery import send as steps
    from nyhetsbrev.delivery.campaign import Audience, Limits
    from nyhetsbrev.delivery.prepare import prepare
    from nyhetsbrev.workspace import Workspace

    ws = Workspace(Path(root))
    prepared = prepare(ws, ISSUE)
    prepared.template()
    limits = Limits(rate=0, daily_cap=10**9)
    with steps.open_ledger(ws) as (store, ledger):
        started = time.perf_counter()
        run = steps.start(prepared, store, ledger, Audience(), limits, new_campaign=False)
        summary = run.sender.run()
        seconds = time.perf_counter() - started
    out.put({"seconds": seconds, "sent": summary.counts["sent"], "peak": _hwm_mib()})


def _workspace(base: Path) -> Path:
    """The reference issue, built, with a real-looking public_url."""
    from click.testing import CliRunner

    from nyhetsbrev.cli import main

    root = base / "ws"
    root.mkdir()
    for name in ("newsletters", "templates"):
        shutil.copytree(REPO / name, root / name)
    kom = root / "newsletters" / "kom.yaml"
    text = kom.read_text("utf-8").replace(
        "https://nyhetsbrev.example.org", "https://nyhetsbrev.kom.no"
    )
    kom.write_text(text, "utf-8")
    time.sleep(0.01)
    result = CliRunner().invoke(main, ["--root", str(root), "build", ISSUE], env=ENV)
    assert result.exit_code == 0, result.output
    return root


def _subscribers(database: str, count: int) -> None:
    """`count` subscribed contacts with the nyhetsbrev topic, inserted in bulk."""
    from nyhetsbrev.contacts.model import now
    from nyhetsbrev.contacts.schema.tables import contact_topics, contacts
    from nyhetsbrev.contacts.store import open_store
    from nyhetsbrev.delivery import ledger  # noqa: F401 - registers the ledger's tables

    with open_store(database) as store, store.engine.begin() as conn:
        at = now()
        rows = [
            {"email": f"abonnent{i}@etat{i % 300}.example.no",
             "email_normalised": f"abonnent{i}@etat{i % 300}.example.no",
             "name": f"Åse Øvrebø {i}", "language": "nb", "status": "subscribed",
             "created_at": at, "updated_at": at}
            for i in range(count)
        ]  # fmt: skip
        conn.execute(contacts.insert(), rows)
        ids = conn.execute(contacts.select().with_only_columns(contacts.c.id)).scalars().all()
        conn.execute(
            contact_topics.insert(), [{"contact_id": i, "topic": "nyhetsbrev"} for i in ids]
        )


def _child(context: Any, target: Any, *args: Any) -> dict[str, Any]:
    out = context.Queue()
    process = context.Process(target=target, args=(*args, out))
    process.start()
    while True:
        try:
            result: dict[str, Any] = out.get(timeout=1)
            break
        except queue.Empty:
            if process.exitcode is not None:
                raise RuntimeError(f"{target.__name__} failed (exit {process.exitcode})") from None
    process.join()
    return result


def run() -> Iterator[Figure | str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = _workspace(Path(tmp))
        template = Path(tmp) / "list.sqlite"
        _subscribers(f"sqlite:///{template.as_posix()}", SIZE)
        yield from _pair(Path(tmp), root, template, pki=None)
        from tests.delivery.pki import CertificateAuthority

        ca = CertificateAuthority(Path(tmp) / "pki")
        ca.issue("loopback", ["127.0.0.1", "localhost"])
        yield from _pair(Path(tmp), root, template, pki=ca)


def _pair(tmp: Path, root: Path, template: Path, pki: Any) -> Iterator[Figure | str]:
    """The campaign against the bare replay, A B A B, on a sink of its own (plain or OAuth)."""
    context = mp.get_context("spawn")
    ready = context.Queue()
    counts = context.Array("q", 3)  # messages, bytes received by the sink, logins
    ca_file = str(pki.ca_file) if pki else ""
    record = tmp / ("record-oauth" if pki else "record")
    record.mkdir()
    folder = str(pki.folder) if pki else ""
    sink = context.Process(target=_sink, args=(ready, str(record), counts, folder), daemon=True)
    sink.start()
    try:
        port = ready.get(timeout=30)
        work = tmp / "work.sqlite"
        database = f"sqlite:///{work.as_posix()}"
        sides: dict[str, list[int]] = {"send": [0, 0, 0], "bare": [0, 0, 0]}

        def measured(side: str, target: Any, *args: Any) -> Run:
            before = list(counts)
            result = _child(context, target, *args)
            for i, value in enumerate(counts):
                sides[side][i] += value - before[i]
            assert result["sent"] == SIZE, result
            return Run(result["seconds"], result["peak"])

        def campaign() -> Run:
            shutil.copyfile(template, work)
            return measured("send", _campaign, str(root), database, port, ca_file)

        (record / "on").touch()
        campaign()  # recorded: what the bare loop will replay
        (record / "on").unlink()
        sides["send"] = [0, 0, 0]
        how = "STARTTLS + AUTH XOAUTH2 (token command)" if pki else "loopback SMTP"
        figure = pair(
            f"nyhetsbrev send, {SIZE:,} recipients, {how}, no rate limit",
            campaign,
            "bare smtplib loop replaying the same messages"
            + (", same STARTTLS + XOAUTH2" if pki else ""),
            lambda: measured("bare", _bare, str(record), port, ca_file),
            warmup=False,  # the recorded campaign warmed the sink and the disk cache
            goal_ratio=1.43,  # i.e. at least 0.7 of the bare loop's rate
        )
    finally:
        sink.terminate()
        sink.join()
    send_bytes, bare_bytes = sides["send"][1], sides["bare"][1]
    figure.note = (
        f"bytes the sink received: send {send_bytes:,}, bare {bare_bytes:,} (in "
        f"{sides['send'][0]:,} and {sides['bare'][0]:,} messages)"
    )
    if pki:
        figure.note += f"; XOAUTH2 logins: send {sides['send'][2]}, bare {sides['bare'][2]}"
    yield figure
    rate = SIZE / figure.seconds.median
    bare_rate = SIZE / figure.baseline_seconds.median if figure.baseline_seconds else 0
    yield f"rates (medians{', OAuth' if pki else ''}): send {rate:.0f} msg/s, bare {bare_rate:.0f} msg/s"
