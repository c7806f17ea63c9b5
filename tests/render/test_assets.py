"""Pictures and addresses: image sizes read from the file, absolute URLs for the email."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest
from tests.render.conftest import Rendered

from nyhetsbrev.errors import RenderError
from nyhetsbrev.render.assets import image_size, picture, web_edition_url
from nyhetsbrev.render.email import preheader

JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0"
    + struct.pack(">H", 16)
    + b"JFIF\x00"
    + b"\x00" * 9
    + b"\xff\xc0"
    + struct.pack(">HBHH", 11, 8, 300, 640)
    + b"\x00" * 6
)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (b"GIF89a" + struct.pack("<HH", 33, 22) + b"\x00" * 8, (33, 22)),
        (JPEG, (640, 300)),
    ],
    ids=["gif", "jpeg"],
)
def test_image_size_of_gif_and_jpeg(data: bytes, size: tuple[int, int]) -> None:
    assert image_size(data, Path("x/bilde")) == size


def test_an_unreadable_picture_format_says_what_to_do() -> None:
    with pytest.raises(RenderError, match=r"not a PNG, GIF or JPEG .* save it as PNG or JPEG"):
        image_size(b"<svg xmlns='http://www.w3.org/2000/svg'/>", Path("2025-q1/logo.svg"))


def test_a_wide_picture_is_scaled_to_the_column(small: Rendered) -> None:
    image = small.loaded.issue.sections[0].articles[0].image
    assert image is not None
    shown = picture(small.loaded, image, absolute=True, max_width=120)
    assert (shown.width, shown.height) == (120, 60)
    assert shown.src == "https://nyhetsbrev.kom.test/2025-q1/veileder.png"
    assert picture(small.loaded, image, absolute=False, max_width=560).src == "veileder.png"


def test_the_email_needs_public_url_for_pictures(small: Rendered) -> None:
    publication = small.loaded.publication.model_copy(update={"public_url": None})
    loaded = dataclasses.replace(small.loaded, publication=publication)
    assert web_edition_url(loaded) is None
    image = loaded.issue.sections[0].articles[0].image
    assert image is not None
    with pytest.raises(RenderError, match="`public_url` is not set, but the email needs absolute"):
        picture(loaded, image, absolute=True, max_width=560)


def test_preheader_falls_back_to_section_titles_and_is_shortened(small: Rendered) -> None:
    issue = small.loaded.issue.model_copy(update={"preheader": None})
    loaded = dataclasses.replace(small.loaded, issue=issue)
    assert preheader(loaded) == "Nytt fra KOM · Aktuelle internasjonale tiltak"
    long = small.loaded.issue.model_copy(update={"preheader": "ord " * 60})
    text = preheader(dataclasses.replace(small.loaded, issue=long))
    assert len(text) <= 130 and text.endswith("ord…")
