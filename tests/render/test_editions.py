"""render_editions: the one rendering path, and the options the preview and build use."""

from __future__ import annotations

import pytest
from tests.render.conftest import Rendered

from nyhetsbrev.render.editions import RenderOptions, render_editions


def test_every_edition_by_default_in_the_order_a_build_lists_them(small: Rendered) -> None:
    editions = render_editions(small.loaded, small.theme)
    names = list(editions.files())
    assert names[:4] == ["email.html", "email.txt", editions.pdf_name, "index.html"]
    assert editions.pdf_name == "kom-nyhetsbrev-2025-q1.pdf"
    assert set(editions.milliseconds) == {"email", "text", "pdf", "web"}


def test_only_the_editions_asked_for(small: Rendered) -> None:
    quick = render_editions(
        small.loaded, small.theme, RenderOptions(editions=frozenset({"email", "text"}))
    )
    assert quick.email is not None and quick.text is not None
    assert quick.pdf is None and quick.web is None
    assert "index.html" not in quick.files() and quick.pdf_name not in quick.files()
    pdf = render_editions(small.loaded, small.theme, RenderOptions(editions=frozenset({"pdf"})))
    assert pdf.pdf is not None and pdf.pdf.pdf.startswith(b"%PDF-")
    assert pdf.email is None and pdf.images == {}


def test_site_url_moves_the_email_and_web_links_but_not_the_text(small: Rendered) -> None:
    public = small.loaded.publication.public_url
    assert public and public.startswith("https://")
    options = RenderOptions(editions=frozenset({"email", "text", "web"}), site_url="/site")
    local = render_editions(small.loaded, small.theme, options)
    assert local.email is not None and local.web is not None and local.text is not None
    assert public not in local.email.html and "/site/2025-q1/" in local.email.html
    assert public in local.text  # the text part is shown as readers get it
    assert local.files()["email.txt"] == small.files["email.txt"]


def test_intermediate_files_only_when_asked(small: Rendered) -> None:
    kept = render_editions(small.loaded, small.theme, RenderOptions(keep_intermediate=True))
    names = set(kept.files())
    assert {"email.mjml", kept.pdf_name.removesuffix(".pdf") + ".typ"} <= names
    assert not {"email.mjml"} & set(small.files)


def test_an_unknown_edition_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown editions: epub"):
        RenderOptions(editions=frozenset({"email", "epub"}))
