"""Pages of both web apps: the reader's language, the labels, and the theme's web-*.html.j2."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from babel.core import negotiate_locale
from starlette.requests import Request
from starlette.responses import HTMLResponse

from nyhetsbrev.brand import load_brand
from nyhetsbrev.errors import WebError
from nyhetsbrev.issue.model import Publication
from nyhetsbrev.render.environment import environment
from nyhetsbrev.theme import Theme, default_theme
from nyhetsbrev.web.security import Csrf

LANGUAGES = ("nb", "nn", "en", "sv")
#: Each language named in itself, as a reader looks for it.
LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English", "sv": "Svenska"}
#: Tags browsers send that Babel's own aliases do not map onto a page language: plain "no"
#: (Norwegian, written as bokmål by nearly all who send it) and its regional form.
_ACCEPT_ALIASES = {"no": "nb", "no-no": "nb"}
LABELS_FILE = Path(__file__).resolve().parent / "labels.yaml"
#: Pages that carry a personal token or a form: never cached, never indexed.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


@lru_cache(maxsize=4)
def _load_labels(path: str, mtime: float) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(lang): {str(k): str(v) for k, v in table.items()} for lang, table in data.items()}


def web_labels(language: str) -> dict[str, str]:
    """The web pages' labels in `language` (nb for anything else)."""
    table = _load_labels(str(LABELS_FILE), LABELS_FILE.stat().st_mtime)
    return table.get(language, table["nb"])


def default_language(publication: Publication) -> str:
    return publication.language if publication.language in LANGUAGES else "nb"


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first; q=0 ("not this
    one") and malformed parts are left out, and equally preferred tags keep their order."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str, available: tuple[str, ...] = LANGUAGES) -> str | None:
    """The best of `available` for an Accept-Language header (Babel's negotiation), or None."""
    preferred = accepted_languages(header)
    return negotiate_locale(preferred, list(available), sep="-", aliases=_ACCEPT_ALIASES)


def choose_language(request: Request, default: str) -> str:
    """`?lang=` if it names a page language; else the best of Accept-Language; else `default`."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return negotiate(request.headers.get("accept-language", "")) or default


class Pages:
    """Renders the theme's web-*.html.j2 pages with the labels of the reader's language.

    A workspace theme without web-*.html.j2 templates gets the shipped KOM ones, so customising
    a theme's editions never breaks the sign-up pages.
    """

    def __init__(
        self,
        theme: Theme,
        publication: Publication,
        csrf: Csrf | None = None,
        *,
        mastheads: Mapping[str, Publication] | None = None,
    ) -> None:
        self.theme = theme
        self.publication = publication
        self.csrf = csrf
        self.default_language = default_language(publication)
        self.mastheads = dict(mastheads or {})

    def masthead(self, language: str) -> Publication:
        """The publication's texts in `language` (its own language's where it has none)."""
        return self.mastheads.get(language, self.publication)

    def language(self, request: Request) -> str:
        return choose_language(request, self.default_language)

    def labels(self, language: str) -> dict[str, str]:
        return {**self.theme.labels(language), **web_labels(language)}

    def template(self, name: str) -> jinja2.Template:
        try:
            return environment(self.theme).get_template(name)
        except jinja2.TemplateNotFound:
            return environment(default_theme()).get_template(name)

    def topic_choices(self, labels: Mapping[str, str]) -> list[tuple[str, str]]:
        """The publication's topics with their labels (the topic's name when it has none)."""
        return [(t, labels.get(f"topic_{t}", t)) for t in self.publication.topics]

    def render_text(self, request: Request, name: str, language: str, **values: Any) -> str:
        labels = self.labels(language)
        context = {
            "lang": language,
            "labels": labels,
            "publication": self.masthead(language),
            # A query-only reference: this page in another language, whatever the request's path
            # (never the path itself, which may be `//evil.example/x`, a link off the site).
            "language_links": [(code, LANGUAGE_NAMES[code], f"?lang={code}") for code in LANGUAGES],
            "query": f"?lang={language}",
            # The publication's path when the app serves several (/kom), else "".
            "base": str(request.scope.get("root_path", "")).rstrip("/"),
            "brand": load_brand(self.theme.path),
            **values,
        }
        try:
            return self.template(name).render(context)
        except jinja2.TemplateError as exc:
            raise WebError(f"{self.theme.path}/{name}: {exc}") from exc

    def render(
        self,
        request: Request,
        name: str,
        *,
        status: int = 200,
        language: str | None = None,
        form: bool = False,
        private: bool = False,
        headers: Mapping[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """A page; `form=True` gives it a CSRF token (and the browser its cookie)."""
        language = language or self.language(request)
        cookie: str | None = None
        if form:
            assert self.csrf is not None, "a form page needs the app's CSRF signer"
            values["csrf_token"], cookie = self.csrf.token_for(request)
        text = self.render_text(request, name, language, **values)
        all_headers = {**(PRIVATE_HEADERS if private or form else {}), **(headers or {})}
        response = HTMLResponse(text, status_code=status, headers=all_headers)
        if cookie is not None and self.csrf is not None:
            self.csrf.set_cookie(response, request, cookie)
        return response

    def message(
        self,
        request: Request,
        title: str,
        body: str,
        *,
        status: int = 200,
        language: str | None = None,
        values: Mapping[str, object] | None = None,
        links: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        private: bool = True,
    ) -> HTMLResponse:
        """A page with a heading and a paragraph, both labels filled with `values`, and links
        (`archive`, `subscribe`) under them."""
        language = language or self.language(request)
        labels = self.labels(language)
        filled = {**self.standard_values(language), **(values or {})}
        return self.render(
            request,
            "web-message.html.j2",
            status=status,
            language=language,
            private=private,
            headers=headers,
            title=labels[title].format(**filled),
            paragraphs=[labels[key].format(**filled) for key in body.split("+")],
            links=links,
        )

    def standard_values(self, language: str) -> dict[str, str]:
        pub = self.masthead(language)
        return {
            "title": pub.title,
            "short_name": pub.short_name,
            "name": pub.name,
            "version": pub.privacy_notice_version,
        }
