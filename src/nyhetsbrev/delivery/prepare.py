"""Getting an issue ready to send: check it, build it (or reuse an up-to-date build), hash it.

The build is reused when every file it consists of is newer than every source it was made from
(the issue folder, the publication file, the theme); otherwise `nyhetsbrev build` runs first. The
campaign remembers a hash of what it sends — the built email, text and PDF and the headers made
from the publication — so `--resume` can tell when the issue changed under a running campaign.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from nyhetsbrev.delivery.message import (
    Attachment,
    MessageTemplate,
    Sender,
    check_placeholders,
    list_id,
)
from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.issue.check import check_issue
from nyhetsbrev.issue.findings import Finding, summary
from nyhetsbrev.issue.lint import PLACEHOLDER_HOST
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render.web import META
from nyhetsbrev.workspace import Workspace

EMAIL_FILES = ("email.html", "email.txt", META)
EN_DASH = "\u2013"


@dataclass(frozen=True)
class Prepared:
    """A checked, built issue and everything its messages are made of."""

    loaded: LoadedIssue
    warnings: list[Finding]
    folder: Path
    rebuilt: bool
    html: str
    text: str
    pdf: Path | None
    subject: str
    sender: Sender
    build_hash: str

    @property
    def public_url(self) -> str | None:
        return self.loaded.publication.public_url

    def template(self, *, test: bool = False) -> MessageTemplate:
        """The message skeleton (built once; personalise with `render()`)."""
        pub = self.loaded.publication
        attachment = None
        if self.pdf is not None:
            attachment = Attachment(self.pdf.name, self.pdf.read_bytes())
        return MessageTemplate(
            subject=self.subject,
            sender=self.sender,
            list_id=list_id(pub.title, pub.short_name, self.sender.domain),
            public_url=self.public_url or "",
            html_body=self.html,
            text_body=self.text,
            attachment=attachment,
            test=test,
            issue_id=self.loaded.id,
        )


#: What did not happen when `prepare()` stops, per verb that calls it.
NOT_DONE = {
    "send": "nothing was sent",
    "approve": "nothing was approved",
    "archive": "nothing was written",
}


def prepare(
    ws: Workspace, issue_id: str, *, attach_pdf: bool = False, verb: str = "send"
) -> Prepared:
    """Check (errors stop here), build if needed, read the build, and hash it.

    `verb` is the command that asked (send, approve, archive), named in the error that stops it.
    """
    from nyhetsbrev.render.build import BuildOptions, build

    checked = check_issue(ws, issue_id)
    loaded, errors = checked.loaded, checked.errors
    if loaded is None or errors:
        lines = "\n".join(f.format() for f in errors)
        raise DeliveryError(
            f"{lines}\n{summary(errors)}: fix these, then run `nyhetsbrev {verb} {issue_id}` again "
            f"({NOT_DONE.get(verb, 'nothing was done')})."
        )
    folder = ws.build_dir / issue_id
    rebuilt = False
    if not build_is_current(ws, loaded, folder):
        build(ws, loaded, BuildOptions())
        rebuilt = True
    html = _read(ws, folder / "email.html")
    text = _read(ws, folder / "email.txt")
    check_placeholders(ws.relative(folder / "email.html"), html)
    check_placeholders(ws.relative(folder / "email.txt"), text)
    pdf = find_pdf(folder) if attach_pdf else None
    if attach_pdf and pdf is None:
        raise DeliveryError(
            f"{ws.relative(folder)}/ has no PDF edition to attach: build it with "
            f"`nyhetsbrev build {issue_id}` (the PDF is part of the build), or send without "
            "--attach-pdf"
        )
    pub = loaded.publication
    sender = Sender(pub.sender.name, pub.sender.email.strip(), pub.sender.reply_to)
    if sender.email.count("@") != 1 or not sender.domain:
        raise DeliveryError(
            f"{ws.relative(loaded.publication_path)}: sender.email is not an address: "
            f'"{sender.email}" — write it as name@domain'
        )
    subject = f"{loaded.title} {EN_DASH} {loaded.period_label}"
    digest = hashlib.sha256()
    for part in (subject, sender.name, sender.email, sender.reply_to or "", pub.public_url or ""):
        digest.update(part.encode("utf-8") + b"\0")
    for body in (html, text):
        digest.update(body.encode("utf-8") + b"\0")
    if pdf is not None:
        digest.update(pdf.name.encode("utf-8") + b"\0" + pdf.read_bytes())
    return Prepared(
        loaded,
        checked.warnings,
        folder,
        rebuilt,
        html,
        text,
        pdf,
        subject,
        sender,
        digest.hexdigest(),
    )


def build_is_current(ws: Workspace, loaded: LoadedIssue, folder: Path) -> bool:
    """True when build/<id>/ exists and is newer than the issue, publication and theme."""
    from nyhetsbrev.theme import find_theme

    try:
        built = min((folder / name).stat().st_mtime for name in EMAIL_FILES)
    except OSError:
        return False
    theme = find_theme(ws, loaded.publication.theme)
    sources = [loaded.publication_path, *_files(loaded.dir), *_files(theme.path)]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0.0)
    return newest < built


def find_pdf(folder: Path) -> Path | None:
    """The PDF edition in a build folder (named in meta.json, else the only *.pdf)."""
    try:
        named = json.loads((folder / META).read_text(encoding="utf-8")).get("pdf")
    except (OSError, ValueError, AttributeError):
        named = None
    if named and (folder / named).is_file():
        return folder / str(named)
    found = sorted(folder.glob("*.pdf"))
    return found[0] if len(found) == 1 else None


def public_url_problem(loaded: LoadedIssue) -> str | None:
    """Why the publication's `public_url` cannot carry unsubscribe links, or None."""
    url = loaded.publication.public_url
    where = loaded.publication_path.name
    if not url:
        return (
            f"newsletters/{where} has no public_url: the unsubscribe links point there. Set it to "
            "the address where `nyhetsbrev serve` answers, e.g. public_url: https://nyhetsbrev.kom.no"
        )
    if PLACEHOLDER_HOST.match(url):
        return (
            f"newsletters/{where}: public_url is a placeholder ({url}), so the unsubscribe links "
            "would not work: set it to the address where `nyhetsbrev serve` answers"
        )
    if not url.startswith("https://"):
        return (
            f"newsletters/{where}: public_url must start with https:// (it is {url}): mail "
            "clients and RFC 8058 one-click unsubscribe need a secure link"
        )
    return None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file()]


def _read(ws: Workspace, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeliveryError(
            f"cannot read {ws.relative(path)} ({exc.strerror or exc}): rebuild the issue with "
            f"`nyhetsbrev build {path.parent.name}`"
        ) from exc
