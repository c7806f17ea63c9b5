"""The public archive: build/index.html, each issue's web edition, PDF, pictures; the Atom feed."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.model import ISSUE_ID, Publication
from nyhetsbrev.render.web import META, ArchiveEntry, read_archive

log = logging.getLogger("nyhetsbrev.web")

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: What build/<id>/ may publish besides index.html: the PDF edition and the article pictures.
#: email.html, email.txt and meta.json stay private (they are for sending and for the build).
PUBLIC_SUFFIXES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.S | re.I)
CACHE = "public, max-age=300"


def style_hashes(html: bytes) -> str:
    """CSP sources allowing exactly the page's own `<style>` blocks: `'sha256-…' …`."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _STYLE.finditer(html)
    )


def edition_csp(html: bytes, *, framed_by: str = "'none'") -> str:
    """The CSP of a built page: its own `<style>` blocks allowed by hash, nothing else inline,
    no script (the web edition is one self-contained file with its CSS in a `<style>`)."""
    return (
        f"default-src 'self'; script-src 'none'; style-src 'self' {style_hashes(html)}; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {framed_by}"
    )


@lru_cache(maxsize=64)
def _file_csp(path: str, mtime_ns: int, size: int) -> str:
    return edition_csp(Path(path).read_bytes())


class Archive:
    """What `nyhetsbrev build` wrote into build/, as the public sees it."""

    def __init__(self, build_dir: Path, publication: Publication) -> None:
        self.build_dir = build_dir
        self.publication = publication

    def index(self, request: Request) -> Response | None:
        """build/index.html, or None before the first build."""
        path = self.build_dir / "index.html"
        return self._file(request, path) if path.is_file() else None

    def issue_file(self, request: Request, issue_id: str, name: str) -> Response | None:
        """build/<id>/<name> if it is public (the web edition, the PDF, a picture), else None."""
        if not ISSUE_ID.match(issue_id) or not SAFE_NAME.match(name):
            return None
        if name != "index.html" and Path(name).suffix.lower() not in PUBLIC_SUFFIXES:
            return None
        folder = self.build_dir / issue_id
        path = folder / name
        if not path.is_file() or path.resolve().parent != folder.resolve():
            return None
        return self._file(request, path)

    def _file(self, request: Request, path: Path) -> Response:
        suffix = path.suffix.lower()
        stat = path.stat()
        headers = {"Cache-Control": CACHE}
        if suffix == ".html":
            headers["Content-Security-Policy"] = _file_csp(
                str(path), stat.st_mtime_ns, stat.st_size
            )
            media_type = "text/html; charset=utf-8"
        else:
            media_type = PUBLIC_SUFFIXES[suffix]
        response = FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)
        etag = response.headers.get("etag")
        asked = request.headers.get("if-none-match", "")
        if etag and etag in [tag.strip().removeprefix("W/") for tag in asked.split(",")]:
            kept = {k: v for k, v in response.headers.items() if k in ("etag", "cache-control")}
            return Response(status_code=304, headers=kept)
        return response

    def entries(self) -> list[tuple[ArchiveEntry, datetime]]:
        """Every built issue with the time it was built, newest issue first."""
        found = []
        for entry in read_archive(self.build_dir):
            meta = self.build_dir / entry.id / META
            built = datetime.fromtimestamp(meta.stat().st_mtime, UTC).replace(microsecond=0)
            found.append((entry, built))
        return sorted(found, key=lambda item: item[0].id, reverse=True)

    def feed(self, base_url: str) -> bytes:
        """The Atom feed (RFC 4287) of every built issue, with absolute links under `base_url`."""
        base = base_url.rstrip("/")
        pub = self.publication
        try:
            entries = self.entries()
        except RenderError as exc:
            log.error("the feed leaves out the archive: %s", exc)
            entries = []
        ET.register_namespace("", ATOM)
        feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: pub.language})
        _text(feed, "title", pub.title)
        _text(feed, "subtitle", pub.audience)
        _text(feed, "id", f"{base}/")
        _link(feed, "alternate", f"{base}/", "text/html")
        _link(feed, "self", f"{base}/feed.xml", "application/atom+xml")
        newest = max((built for _, built in entries), default=datetime(2000, 1, 1, tzinfo=UTC))
        _text(feed, "updated", _stamp(newest))
        author = ET.SubElement(feed, f"{{{ATOM}}}author")
        _text(author, "name", pub.name)
        _text(author, "uri", pub.website)
        for entry, built in entries:
            item = ET.SubElement(feed, f"{{{ATOM}}}entry")
            if entry.language != pub.language:
                item.set(XML_LANG, entry.language)
            url = f"{base}/{entry.id}/"
            _text(item, "title", f"{entry.title}, {entry.period_label}")
            _text(item, "id", url)
            _text(item, "updated", _stamp(built))
            _link(item, "alternate", url, "text/html")
            if entry.pdf:
                _link(item, "enclosure", f"{url}{entry.pdf}", "application/pdf")
            _text(item, "summary", entry.summary or f"{entry.title} – {entry.period_label}")
        body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
        return body


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = text


def _link(parent: ET.Element, rel: str, href: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "href": href, "type": kind})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
