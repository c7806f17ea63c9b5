"""An issue's pictures and public addresses: what the editions link to and what build/ copies."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.issue.model import Image


@dataclass(frozen=True)
class Picture:
    """An article's image as an edition shows it: address, alt text and displayed size."""

    src: str
    alt: str
    width: int
    height: int


def public_base(loaded: LoadedIssue) -> str | None:
    """`publication.public_url` without a trailing slash: where `nyhetsbrev serve` publishes."""
    url = loaded.publication.public_url
    return url.rstrip("/") if url else None


def web_edition_url(loaded: LoadedIssue) -> str | None:
    """`{public_url}/{id}/`: the web edition of this issue, or None without a public_url."""
    base = public_base(loaded)
    return f"{base}/{loaded.id}/" if base else None


def pdf_file_name(loaded: LoadedIssue) -> str:
    """kom-nyhetsbrev-2024-q4.pdf: the publication's id, so a downloaded copy says whose it is."""
    return f"{loaded.publication_id}-nyhetsbrev-{loaded.id}.pdf"


def pdf_edition_url(loaded: LoadedIssue) -> str | None:
    """`{public_url}/{id}/{pdf}`: the PDF edition beside the web edition, or None."""
    web = web_edition_url(loaded)
    return f"{web}{pdf_file_name(loaded)}" if web else None


def archive_url(loaded: LoadedIssue) -> str | None:
    base = public_base(loaded)
    return f"{base}/" if base else None


def issue_images(loaded: LoadedIssue) -> dict[str, bytes]:
    """Every article image of the issue, file name (relative to the issue folder) → bytes."""
    files: dict[str, bytes] = {}
    for section in loaded.issue.sections:
        for article in section.articles:
            if article.image is not None and article.image.src not in files:
                files[article.image.src] = _read(loaded, article.image.src)
    return files


def picture(loaded: LoadedIssue, image: Image, *, absolute: bool, max_width: int) -> Picture:
    """The image as an edition shows it: its URL (absolute for email) and a size that fits."""
    path = loaded.dir / image.src
    width, height = image_size(_read(loaded, image.src), path)
    if width > max_width:
        height, width = round(height * max_width / width), max_width
    src = quote(Path(image.src).as_posix())
    if absolute:
        base = public_base(loaded)
        if base is None:
            raise RenderError(
                f"{loaded.publication_path.name}: `public_url` is not set, but the email needs "
                f"absolute addresses for its pictures ({image.src}): set `public_url:` to where "
                "`nyhetsbrev serve` publishes build/, e.g. https://nyhetsbrev.example.org"
            )
        src = f"{base}/{loaded.id}/{src}"
    return Picture(src=src, alt="" if image.decorative else image.alt, width=width, height=height)


def pictures(
    loaded: LoadedIssue, *, absolute: bool, max_width: int
) -> Callable[[Image | None], Picture | None]:
    """What templates call as `extra.picture(article.image)`: the picture, or None."""

    def show(image: Image | None) -> Picture | None:
        if image is None:
            return None
        return picture(loaded, image, absolute=absolute, max_width=max_width)

    return show


def _read(loaded: LoadedIssue, src: str) -> bytes:
    try:
        return (loaded.dir / src).read_bytes()
    except OSError as exc:
        raise RenderError(
            f"{loaded.dir.name}/{src}: cannot read the image ({exc.strerror}): "
            "put the file in the issue folder or fix `image.src`"
        ) from exc


def image_size(data: bytes, path: Path) -> tuple[int, int]:
    """Width and height in pixels of a PNG, GIF or JPEG (the formats every mail client shows)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        size = _jpeg_size(data)
        if size:
            return size
    raise RenderError(
        f"{path.parent.name}/{path.name}: not a PNG, GIF or JPEG picture that can be read: "
        "save it as PNG or JPEG (mail clients do not show SVG or WebP reliably)"
    )


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None
