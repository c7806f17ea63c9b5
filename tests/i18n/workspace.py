"""A small workspace with one publication written in four languages and one issue in each:
2025-q1 bokmål, 2025-q2 nynorsk, 2025-q3 English, 2025-q4 Swedish. Each issue has an event, a
court decision (dates in the issue's language) and a passage marked as another language."""

from __future__ import annotations

from pathlib import Path

ISSUES = {"nb": "2025-q1", "nn": "2025-q2", "en": "2025-q3", "sv": "2025-q4"}
PUBLIC_URL = "https://nyhetsbrev.srs-demo.no"

PUBLICATION = """\
# yaml-language-server: $schema=publication.schema.json
name:
  nb: Samordningsrådet for språk
  nn: Samordningsrådet for språk
  en: The Language Coordination Council
  sv: Samordningsrådet för språk
short_name: SRS
title:
  nb: Nyhetsbrev fra SRS
  nn: Nyheitsbrev frå SRS
  en: Newsletter from SRS
  sv: Nyhetsbrev från SRS
audience:
  nb: Til alle som arbeider med språk
  nn: Til alle som arbeider med språk
  en: For everyone who works with language
  sv: Till alla som arbetar med språk
language: nb
contact_email: post@srs-demo.no
website: https://www.srs-demo.no
public_url: {public_url}
sender:
  name: SRS
  email: post@srs-demo.no
topics: [nyhetsbrev]
contact:
  title:
    nb: Ta kontakt
    nn: Ta kontakt
    en: Get in touch
    sv: Hör av dig
  body:
    nb: |
      Skriv til [post@srs-demo.no](mailto:post@srs-demo.no).
    nn: |
      Skriv til [post@srs-demo.no](mailto:post@srs-demo.no).
    en: |
      Write to [post@srs-demo.no](mailto:post@srs-demo.no).
    sv: |
      Skriv till [post@srs-demo.no](mailto:post@srs-demo.no).
about:
  title:
    nb: Om rådet
    nn: Om rådet
    en: About the council
    sv: Om rådet
  body:
    nb: |
      Rådet samordner arbeidet med klarspråk i offentlig sektor.
    nn: |
      Rådet samordnar arbeidet med klarspråk i offentleg sektor.
    en: |
      The council coordinates plain-language work in the public sector.
    sv: |
      Rådet samordnar arbetet med klarspråk i offentlig sektor.
contact_list:
  title:
    nb: Kontaktlisten
    nn: Kontaktlista
    en: The contact list
    sv: Kontaktlistan
  body:
    nb: |
      Vil du stå på listen, skriv til oss.
    nn: |
      Vil du stå på lista, skriv til oss.
    en: |
      To join the list, write to us.
    sv: |
      Vill du stå på listan, skriv till oss.
"""

#: Per language: section, article, body (with a passage in another language), event, decision.
TEXTS = {
    "nb": (
        "Aktuelt",
        "Ny veileder",
        "Les [Klarspråksveilederen](https://www.srs-demo.no/veileder). Konferansen het "
        "[Från ord till handling]{lang=sv}.",
        "Kurs i klarspråk",
        "God jul!",
    ),
    "nn": (
        "Aktuelt",
        "Ny rettleiar",
        "Les [Klarspråksrettleiaren](https://www.srs-demo.no/rettleiar). Konferansen heitte "
        "[Från ord till handling]{lang=sv}.",
        "Kurs i klarspråk",
        "God jul!",
    ),
    "en": (
        "News",
        "A new guide",
        "Read [the plain-language guide](https://www.srs-demo.no/guide). The conference was "
        "called [Från ord till handling]{lang=sv}.",
        "A plain-language course",
        "Season's greetings!",
    ),
    "sv": (
        "Aktuellt",
        "En ny vägledning",
        "Läs [klarspråksvägledningen](https://www.srs-demo.no/vagledning). Rapporten heter "
        "[Plain language in practice]{lang=en}.\n\nHela detta stycke är på norska. {lang=nb}",
        "En kurs i klarspråk",
        "God jul!",
    ),
}
EVENT_DAY = {
    "2025-q1": "2025-06-10",
    "2025-q2": "2025-09-10",
    "2025-q3": "2025-12-10",
    "2025-q4": "2026-02-10",
}


def issue_yaml(language: str) -> str:
    section, article, body, event, closing = TEXTS[language]
    issue_id = ISSUES[language]
    indented = "\n".join("          " + line if line else "" for line in body.splitlines())
    return f"""\
language: {language}
preheader: "{article}"
sections:
  - title: {section}
    contact_box: true
    articles:
      - title: {article}
        body: |
{indented}
        events:
          - title: {event}
            start: {EVENT_DAY[issue_id]}
            online: true
            url: https://www.srs-demo.no/kurs
        decisions:
          - title: T.V. v. Spain
            court: ECtHR
            date: 2024-10-10
            url: https://hudoc.echr.coe.int/eng?i=001-236067
closing: "{closing}"
"""


def make_workspace(root: Path, public_url: str = PUBLIC_URL) -> Path:
    """Write the workspace under `root` (which must exist) and return it."""
    newsletters = root / "newsletters"
    newsletters.mkdir()
    (newsletters / "srs.yaml").write_text(
        PUBLICATION.format(public_url=public_url), encoding="utf-8"
    )
    for language, issue_id in ISSUES.items():
        (newsletters / issue_id).mkdir()
        (newsletters / issue_id / "issue.yaml").write_text(issue_yaml(language), "utf-8")
    (root / "contacts").mkdir()
    (root / "build").mkdir()
    return root
