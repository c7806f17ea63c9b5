"""PDF test helpers: render an issue once, then read the file back as a reader would."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest
from tests.conftest import REPO, require_tool

from nyhetsbrev.issue.load import LoadedIssue, load_or_fail
from nyhetsbrev.render.environment import typeset
from nyhetsbrev.render.pdf import render_pdf
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace


@dataclass
class Rendered:
    """One rendered PDF and what tests keep asking of it."""

    loaded: LoadedIssue
    pdf: bytes
    source: str
    path: Path
    warnings: tuple[str, ...] = ()

    @property
    def reader(self) -> pypdf.PdfReader:
        return pypdf.PdfReader(self.path)

    def pages_text(self) -> list[str]:
        """pdftotext's text of each page, in reading order (poppler, not our own code)."""
        tool = require_tool("pdftotext")
        out = subprocess.run(
            [tool, "-enc", "UTF-8", str(self.path), "-"], check=True, capture_output=True, text=True
        ).stdout
        return out.split("\f")[: len(self.reader.pages)]

    def bookmarks(self) -> list[tuple[str, int]]:
        """Top-level bookmarks as (title, 1-based page)."""
        reader = self.reader
        return [
            (item.title, reader.get_destination_page_number(item) + 1)
            for item in reader.outline
            if not isinstance(item, list)
        ]

    def uris(self) -> set[str]:
        found = set()
        for page in self.reader.pages:
            for annot in page.get("/Annots") or []:
                action = annot.get_object().get("/A")
                if action is not None and "/URI" in action:
                    found.add(str(action["/URI"]))
        return found

    def split_text(self, index: int) -> tuple[str, str]:
        """(text inside /Artifact marked content, all other text) of page `index` (0-based)."""
        stack: list[bool] = []
        parts: dict[bool, list[str]] = {True: [], False: []}

        def before(op: bytes, args: Any, *_: Any) -> None:
            if op in (b"BDC", b"BMC"):
                stack.append(bool(args) and args[0] == "/Artifact")
            elif op == b"EMC" and stack:
                stack.pop()

        def text(value: str, *_: Any) -> None:
            parts[any(stack)].append(value)

        self.reader.pages[index].extract_text(visitor_operand_before=before, visitor_text=text)
        return squash("".join(parts[True])), squash("".join(parts[False]))


def squash(text: str) -> str:
    """Whitespace-insensitive form for comparing extracted text (PDF text has no real spaces)."""
    return re.sub(r"\s+", "", text)


def render(ws: Workspace, issue_id: str, out: Path, standard: str = "ua-1") -> Rendered:
    loaded, _ = load_or_fail(ws, issue_id)
    theme = find_theme(ws, loaded.publication.theme)
    edition = render_pdf(loaded, theme, standard)
    out.write_bytes(edition.pdf)
    return Rendered(typeset(loaded), edition.pdf, edition.source, out, edition.warnings)


def png(width: int = 8, height: int = 6) -> bytes:
    """A tiny valid red PNG, so tests need no image files."""
    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """The reference issue (newsletters/2024-q4) as PDF/UA-1, rendered once per module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1735000000")
        mp.chdir(REPO)
        out = tmp_path_factory.mktemp("reference") / "kom-nyhetsbrev-2024-q4.pdf"
        yield render(Workspace(REPO), "2024-q4", out)
