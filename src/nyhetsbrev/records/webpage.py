"""The web edition as one self-contained HTML file: its CSS is inline already, pictures become
data: URIs, and the link to the archive index points at the public archive."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from urllib.parse import quote

from nyhetsbrev.errors import RecordsError
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render.assets import archive_url

MEDIA_TYPES = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def self_contained(page: str, folder: Path, loaded: LoadedIssue) -> str:
    """The built web edition `page` (from `folder`) with every picture embedded."""
    for name in sorted(_images(loaded)):
        attribute = f'src="{html.escape(quote(name))}"'
        if attribute not in page:
            continue
        path = folder / name
        media = MEDIA_TYPES.get(path.suffix.lower())
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RecordsError(
                f"{path}: cannot read the picture for the archive copy ({exc.strerror or exc}): "
                f"rebuild the issue with `nyhetsbrev build {loaded.id}`"
            ) from exc
        if media is None:
            raise RecordsError(f"{path}: not a PNG, GIF or JPEG picture")
        uri = f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"
        page = page.replace(attribute, f'src="{uri}"')
    index = archive_url(loaded)
    if index:
        page = page.replace('href="../index.html"', f'href="{html.escape(index)}"')
    return page


def _images(loaded: LoadedIssue) -> set[str]:
    return {
        Path(article.image.src).as_posix()
        for section in loaded.issue.sections
        for article in section.articles
        if article.image is not None
    }
