"""The second half of the one pipeline: render a checked issue's editions, in memory.

`build` renders them all and writes build/<id>/; `preview` renders the email, text and web
edition at once (linking to its own server) and the PDF only when it is asked for; `send`
builds through `build`. The options say which editions and how, so there is no second copy.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from nyhetsbrev.brand import LOGO_PNG, load_brand
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render.assets import issue_images
from nyhetsbrev.render.assets import pdf_file_name as pdf_file_name
from nyhetsbrev.render.email import EmailEdition, clip_warning, render_email
from nyhetsbrev.render.environment import typeset
from nyhetsbrev.render.pdf import PdfEdition, render_pdf
from nyhetsbrev.render.standards import DEFAULT_STANDARD
from nyhetsbrev.render.text import render_text
from nyhetsbrev.render.web import render_web
from nyhetsbrev.theme import Theme

EDITIONS = ("email", "text", "pdf", "web")


@dataclass(frozen=True)
class RenderOptions:
    """Which editions to render, and how.

    `site_url`, when set, replaces the publication's `public_url` in the email and the web
    edition, so their links and pictures work before anything is published (the preview).
    """

    editions: frozenset[str] = frozenset(EDITIONS)
    keep_intermediate: bool = False
    pdf_standard: str = DEFAULT_STANDARD
    site_url: str | None = None

    def __post_init__(self) -> None:
        unknown = self.editions - frozenset(EDITIONS)
        if unknown:
            raise ValueError(f"unknown editions: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class Editions:
    """What was rendered (None for an edition not asked for) and the build's warnings."""

    loaded: LoadedIssue
    options: RenderOptions
    email: EmailEdition | None = None
    text: str | None = None
    pdf: PdfEdition | None = None
    web: str | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # e.g. over Gmail's clip limit
    milliseconds: dict[str, float] = field(default_factory=dict)  # per edition, for the preview

    @property
    def pdf_name(self) -> str:
        return pdf_file_name(self.loaded)

    def files(self) -> dict[str, bytes]:
        """The files of build/<id>/ (file name → content), in the order a build lists them."""
        files: dict[str, bytes] = {}
        if self.email is not None:
            files["email.html"] = self.email.html.encode("utf-8")
        if self.text is not None:
            files["email.txt"] = self.text.encode("utf-8")
        if self.email is not None and self.options.keep_intermediate:
            files["email.mjml"] = self.email.mjml.encode("utf-8")
        if self.pdf is not None:
            files[self.pdf_name] = self.pdf.pdf
            if self.options.keep_intermediate:
                typ = self.pdf_name.removesuffix(".pdf") + ".typ"
                files[typ] = self.pdf.source.encode("utf-8")
        if self.web is not None:
            files["index.html"] = self.web.encode("utf-8")
        files.update(self.images)
        return files


def render_editions(
    loaded: LoadedIssue, theme: Theme, options: RenderOptions | None = None
) -> Editions:
    """Render the editions `options` asks for (all, by default); RenderError if one fails."""
    options = options or RenderOptions()
    # Titles, subtitles, event names: the language's typography, as each edition sets them.
    loaded = typeset(loaded)
    linked = loaded
    if options.site_url is not None:
        publication = loaded.publication.model_copy(update={"public_url": options.site_url})
        linked = dataclasses.replace(loaded, publication=publication)
    rendered = Editions(loaded, options)
    timings: dict[str, float] = {}
    wanted = options.editions

    def timed(name: str, started: float) -> None:
        timings[name] = (time.perf_counter() - started) * 1000

    if "email" in wanted:
        started = time.perf_counter()
        email = render_email(linked, theme)
        timed("email", started)
        clip = clip_warning(email.html, loaded)
        rendered = dataclasses.replace(rendered, email=email, warnings=(clip,) if clip else ())
    if "text" in wanted:
        started = time.perf_counter()
        rendered = dataclasses.replace(rendered, text=render_text(loaded, theme))
        timed("text", started)
    # The PDF edition is rendered before the web edition, which links to it.
    if "pdf" in wanted:
        started = time.perf_counter()
        rendered = dataclasses.replace(
            rendered, pdf=render_pdf(loaded, theme, options.pdf_standard)
        )
        timed("pdf", started)
    if "web" in wanted:
        started = time.perf_counter()
        web = render_web(linked, theme, pdf_name=rendered.pdf_name)
        rendered = dataclasses.replace(rendered, web=web)
        timed("web", started)
    if wanted & {"email", "web"}:
        images = issue_images(loaded)
        logo = load_brand(theme.path).logo.png
        if logo and "email" in wanted:
            images[LOGO_PNG] = logo  # the email shows it from {public_url}/{id}/
        rendered = dataclasses.replace(rendered, images=images)
    return dataclasses.replace(rendered, milliseconds=timings)
