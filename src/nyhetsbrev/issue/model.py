"""The typed model of a publication and an issue; editors' JSON Schema is generated from it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

Language = Literal["nb", "nn", "en", "sv"]
LANGUAGES: tuple[str, ...] = ("nb", "nn", "en", "sv")
# ASCII digits only (\d takes ２０２４) and \Z, not $ (which lets a trailing newline through).
ISSUE_ID = re.compile(r"\A(?P<year>[0-9]{4})-q(?P<quarter>[1-4])\Z")
#: The years an issue id may name.
ISSUE_YEARS = range(1900, 2101)

Markdown = Annotated[
    str,
    Field(
        description="Markdown subset: paragraphs, **bold**, *italic*, [links](https://…) and "
        "bullet lists. Raw HTML is shown as text. Over several lines, write it as a block: `|`.",
        json_schema_extra={"x-markdown": True},
    ),
]
Url = Annotated[
    str,
    Field(description="An address starting with https:// (or mailto:).", min_length=1),
]
NonEmpty = Annotated[str, Field(min_length=1)]
Day = Annotated[dt.date, Field(description="A date written YYYY-MM-DD, without quotes.")]


class Strict(BaseModel):
    """Base: unknown keys are errors, and YAML's guesses (no → false, dates) are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Image(Strict):
    """A picture beside an article: a file next to issue.yaml, with alt text."""

    src: NonEmpty = Field(description="File name relative to the issue folder, e.g. veileder.png.")
    alt: str = Field(
        default="", description="What the picture shows, for people who cannot see it."
    )
    decorative: bool = Field(
        default=False, description="true only for pure decoration; then alt must be empty."
    )

    @model_validator(mode="after")
    def _alt_text(self) -> Image:
        if self.decorative and self.alt.strip():
            raise ValueError(
                "a decorative image has no alt text: remove `alt`, or remove `decorative: true`"
            )
        if not self.decorative and not self.alt.strip():
            raise ValueError(
                "image needs alt text: add `alt: …` saying what it shows "
                "(or `decorative: true` if it shows nothing that matters)"
            )
        return self


class Event(Strict):
    """A dated happening for "Kommende arrangementer"."""

    title: NonEmpty
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None = Field(default=None, description="Last day, if several.")
    organiser: str | None = None
    url: Url | None = None
    online: bool = Field(default=False, description="true for a digital event.")
    location: str | None = Field(default=None, description="Place, e.g. Oslo.")
    description: Markdown | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Event:
        if self.end is not None and _as_date(self.end) < _as_date(self.start):
            raise ValueError(
                f"the event ends ({self.end}) before it starts ({self.start}): swap them"
            )
        return self

    @property
    def last_day(self) -> dt.date:
        return _as_date(self.end if self.end is not None else self.start)


class CourtDecision(Strict):
    """A court decision listed under an article, e.g. a judgment of the ECtHR."""

    title: NonEmpty = Field(description="The case name, e.g. T.V. v. Spain.")
    reference: str | None = Field(
        default=None, description="e.g. application no. 22512/21, or TTRO-2024-127230."
    )
    court: str | None = Field(default=None, description="e.g. EMD, Trøndelag tingrett.")
    date: Day
    url: Url | None = None


class Article(Strict):
    """One item of a section: a heading, text, and optionally a picture, events or decisions."""

    title: NonEmpty
    body: Markdown = ""
    image: Image | None = None
    events: list[Event] = Field(default_factory=list, description="Listed after the body.")
    decisions: list[CourtDecision] = Field(
        default_factory=list, description="Court decisions, listed after the body."
    )
    after: Markdown = Field(default="", description="Text after the events or decisions.")
    deadline: Day | None = Field(
        default=None, description="A deadline the text mentions (e.g. høringsfrist)."
    )
    date: Day | None = Field(default=None, description="A date the text mentions.")
    recurring: bool = Field(
        default=False, description="true: `nyhetsbrev new` copies it into the next issue."
    )


class Section(Strict):
    """A heading and its articles; in the PDF, sections flow on (docs/pdf.md: "forts.")."""

    title: NonEmpty
    subtitle: str | None = Field(default=None, description="Shown after the title.")
    articles: list[Article] = Field(default_factory=list)
    contact_box: bool = Field(
        default=False, description='true: the "Kontakt oss" box follows this section.'
    )


class Period(Strict):
    start: Day
    end: Day


class Issue(Strict):
    """newsletters/<id>/issue.yaml: one quarterly issue."""

    period: Period | None = Field(
        default=None, description="First and last day; must match the id (2025-q1: Jan–Mar)."
    )
    title: str | None = Field(default=None, description="Overrides the publication's title.")
    preheader: str | None = Field(
        default=None, description="The line an inbox shows after the subject; at most ~130 chars."
    )
    language: Language | None = Field(default=None, description="nb, nn, en or sv.")
    sections: list[Section] = Field(default_factory=list)
    closing: str | None = Field(default=None, description="A last line, e.g. season's greeting.")


class TextBlock(Strict):
    title: str | None = None
    body: Markdown


class Sender(Strict):
    name: NonEmpty
    email: NonEmpty
    reply_to: str | None = None


class Publication(Strict):
    """newsletters/<publication>.yaml: the masthead; recurring text lives here once."""

    name: NonEmpty = Field(description="The publisher's full name.")
    short_name: NonEmpty
    title: NonEmpty = Field(description="The newsletter's title, e.g. Nyhetsbrev.")
    audience: NonEmpty = Field(description="Who it is for, e.g. Til våre samarbeidspartnere.")
    language: Language = "nb"
    theme: NonEmpty = "kom"
    contact_email: NonEmpty
    website: Url
    public_url: Url | None = Field(
        default=None,
        description="Where `nyhetsbrev serve` is reachable (web edition, unsubscribe links).",
    )
    sender: Sender
    contact: TextBlock = Field(description='The "Kontakt oss" box.')
    about: TextBlock = Field(description="The closing text about the publisher.")
    contact_list: TextBlock = Field(description="How to join or leave the contact list.")
    topics: list[NonEmpty] = Field(
        default_factory=lambda: ["nyhetsbrev", "rettsavgjorelser", "tilstandsrapport"]
    )
    privacy_notice_version: NonEmpty = "1"
    privacy_notice_url: Url | None = None
    approval: Literal["required", "none"] = Field(
        default="none",
        description="required: `send --confirm` needs `nyhetsbrev approve` of this exact build "
        "by someone other than the sender; none: a one-person team sends without it.",
    )
    approvers: list[NonEmpty] = Field(
        default_factory=list,
        description="Who may approve (as --actor / NYHETSBREV_ACTOR names them); empty: anyone "
        "but the sender.",
    )


#: The masthead's fields an editor may write once per language (`title: {nb: …, en: …}`).
LOCALIZED_FIELDS = ("name", "short_name", "title", "audience")
LOCALIZED_BLOCKS = ("contact", "about", "contact_list")
_PER_LANGUAGE = (
    " Either one text, or one per language: `{nb: …, en: …}`; an issue uses its own language's, "
    "else the publication's."
)


class PerLanguage(TypedDict, total=False):
    """One text per language; the publication's own language must be among them."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    nb: NonEmpty
    nn: NonEmpty
    en: NonEmpty
    sv: NonEmpty


class PerLanguageMarkdown(TypedDict, total=False):
    """One Markdown text per language (write each as a `|` block)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    nb: str
    nn: str
    en: str
    sv: str


Localized = Annotated[
    NonEmpty | PerLanguage,
    Field(description="A text, or one per language (nb, nn, en, sv)."),
]
LocalizedMarkdown = Annotated[
    str | PerLanguageMarkdown,
    Field(
        description="Markdown (see `body` of an article), or one per language: `{nb: |, en: |}`.",
        json_schema_extra={"x-markdown": True},
    ),
]


class LocalizedTextBlock(Strict):
    """A box of the masthead, in one language or several."""

    title: Localized | None = None
    body: LocalizedMarkdown


def _file_field(name: str, info: FieldInfo) -> tuple[Any, FieldInfo]:
    if name not in LOCALIZED_FIELDS and name not in LOCALIZED_BLOCKS:
        return info.annotation, info
    kind: Any = LocalizedTextBlock if name in LOCALIZED_BLOCKS else Localized
    return kind, Field(description=(info.description or "").rstrip(".") + "." + _PER_LANGUAGE)


#: The publication file as written: `Publication`'s fields, the masthead's texts per language.
#: `issue.localized.resolve` turns it into the `Publication` of one language.
PublicationFile: type[Strict] = create_model(  # type: ignore[call-overload]
    "PublicationFile",
    __base__=Strict,
    __doc__=Publication.__doc__,
    **{name: _file_field(name, info) for name, info in Publication.model_fields.items()},
)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def quarter_period(issue_id: str) -> tuple[dt.date, dt.date]:
    """2024-q4 → (2024-10-01, 2024-12-31)."""
    match = ISSUE_ID.match(issue_id)
    if not match:
        raise ValueError(issue_id)
    year, quarter = int(match["year"]), int(match["quarter"])
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas editors' tools use, generated from the model (never hand-written)."""
    out: dict[str, dict[str, Any]] = {}
    models: tuple[tuple[str, type[BaseModel]], ...] = (
        ("issue", Issue),
        ("publication", PublicationFile),
    )
    for name, model in models:
        schema = model.model_json_schema(mode="validation")
        schema["title"] = model.__name__.removesuffix("File")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{name}.schema.json"
        out[name] = schema
    return out


def write_schemas(newsletters: Path) -> list[Path]:
    """Write (or leave, when unchanged) newsletters/<name>.schema.json for each schema."""
    written = []
    for name, schema in json_schemas().items():
        path = newsletters / f"{name}.schema.json"
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
