"""Bad issue files, each with the exact error lines `load` must report (file:line:col: …)."""

from __future__ import annotations

HEAD = "# yaml-language-server: $schema=../issue.schema.json\n"
GOOD = (
    HEAD
    + """language: nb
preheader: Kort om kvartalet.
sections:
  - title: Verdt å merke seg
    articles:
      - title: Første sak
        body: |
          Tekst med [lenke](https://www.regjeringen.no).
"""
)


def titled(title: str) -> str:
    """An issue whose one article has the title `title` (written as is, on line 6)."""
    return HEAD + (
        "preheader: Kort.\nsections:\n  - title: Seksjon\n    articles:\n"
        f"      - title: {title}\n        body: Tekst.\n"
    )


def article(extra: str, body: str = "        body: Tekst.\n") -> str:
    """An issue whose one article has `extra` (indented 8 spaces) after its title."""
    return HEAD + (
        "preheader: Kort.\nsections:\n  - title: Seksjon\n    articles:\n"
        "      - title: Sak\n" + body + extra
    )


F = "newsletters/2025-q1/issue.yaml"
CASES: list[tuple[str, str | bytes, list[str]]] = [
    (
        "empty",
        "",
        [
            "F:1:1: error: file is empty: it needs at least the fields of an issue (see docs/authoring.md)"
        ],
    ),
    (
        "only-comments",
        "# nothing here\n\n# still nothing\n",
        [
            "F:1:1: error: file is empty: it needs at least the fields of an issue (see docs/authoring.md)"
        ],
    ),
    (
        "top-list",
        "- title: a\n- title: b\n",
        [
            "F:1:1: error: expected fields (`key: value` lines) at the top, found a list: see docs/authoring.md for the format"
        ],
    ),
    (
        "top-scalar",
        "just some text\n",
        [
            "F:1:1: error: expected fields (`key: value` lines) at the top, found a single value ('just some text'): see docs/authoring.md for the format"
        ],
    ),
    (
        "cp1252",
        GOOD.replace("Første", "F\u00f8rste").encode("cp1252"),
        [
            "F:5:18: error: not UTF-8 text (byte 0xE5); save the file as UTF-8 (in Notepad: Save as → Encoding: UTF-8)"
        ],
    ),
    (
        "nul-bytes",
        "title: a\x00b\n",
        ["F:1:1: error: file contains NUL bytes: it is not a text file"],
    ),
    (
        "tab-indent",
        "sections:\n\t- title: a\n",
        ["F:2:1: error: a tab in the indentation: YAML needs spaces; replace the tab"],
    ),
    (
        "duplicate-key",
        article("        title: Igjen\n"),
        [
            "F:8:9: error: `title` appears twice here (first at line 6); YAML would silently keep only the last one: remove or rename one of them"
        ],
    ),
    (
        "duplicate-top-key",
        GOOD + "sections: []\n",
        [
            "F:10:1: error: `sections` appears twice here (first at line 4); YAML would silently keep only the last one: remove or rename one of them"
        ],
    ),
    (
        "unknown-top-key",
        GOOD + "titel: Nyhetsbrev\n",
        ['F:10:1: error: titel: unknown field `titel`: did you mean "title"?'],
    ),
    (
        "unknown-article-key",
        article("        bodyy: Tekst\n"),
        [
            'F:8:9: error: sections[0].articles[0].bodyy: unknown field `bodyy`: did you mean "body"?'
        ],
    ),
    (
        "unknown-key-far",
        article("        colour: blue\n"),
        [
            "F:8:9: error: sections[0].articles[0].colour: unknown field `colour`: allowed here: after, body, date, deadline, decisions, events, image, recurring, title"
        ],
    ),
    (
        "language-no",
        GOOD.replace("language: nb", "language: no"),
        [
            "F:2:11: error: language: YAML reads `no` as false, not a language: write one of nb, nn, en, sv (Norwegian Bokmål is nb)"
        ],
    ),
    (
        "language-NO",
        GOOD.replace("language: nb", "language: NO"),
        [
            "F:2:11: error: language: YAML reads `NO` as false, not a language: write one of nb, nn, en, sv (Norwegian Bokmål is nb)"
        ],
    ),
    (
        "language-de",
        GOOD.replace("language: nb", "language: de"),
        ['F:2:11: error: language: "de" is not one of nb, nn, en, sv — did you mean "en"?'],
    ),
    (
        "language-typo",
        GOOD.replace("language: nb", "language: nbb"),
        ['F:2:11: error: language: "nbb" is not one of nb, nn, en, sv — did you mean "nb"?'],
    ),
    (
        "title-is-date",
        article("", "").replace("title: Sak", "title: 2024-10-01"),
        [
            'F:6:16: error: sections[0].articles[0].title: YAML reads `2024-10-01` as a date, but text is expected: put it in quotes: "2024-10-01"'
        ],
    ),
    (
        "title-is-number",
        article("", "").replace("title: Sak", "title: 2025"),
        [
            'F:6:16: error: sections[0].articles[0].title: YAML reads `2025` as a number, but text is expected: put it in quotes: "2025"'
        ],
    ),
    (
        "title-is-yes",
        article("", "").replace("title: Sak", "title: yes"),
        [
            'F:6:16: error: sections[0].articles[0].title: YAML reads `yes` as true (a yes/no value): put it in quotes: "yes"'
        ],
    ),
    (
        "deadline-quoted",
        article('        deadline: "2025-01-17"\n'),
        [
            'F:8:19: error: sections[0].articles[0].deadline: "2025-01-17" is in quotes, so YAML reads it as text, not a date: remove the quotes'
        ],
    ),
    (
        "deadline-words",
        article("        deadline: 17. januar 2025\n"),
        [
            'F:8:19: error: sections[0].articles[0].deadline: "17. januar 2025" is not a date: write it as YYYY-MM-DD, e.g. 2025-01-17'
        ],
    ),
    (
        "deadline-impossible",
        article("        deadline: 2025-02-30\n"),
        [
            'F:8:19: error: sections[0].articles[0].deadline: "2025-02-30" looks like a date but is not a real one: check the day and month (YYYY-MM-DD)'
        ],
    ),
    (
        "deadline-with-time",
        article("        deadline: 2025-01-17 10:00:00\n"),
        [
            "F:8:19: error: sections[0].articles[0].deadline: `2025-01-17 10:00:00` has a time of day; write only the date: 2025-01-17"
        ],
    ),
    (
        "event-ends-before-start",
        article(
            "        events:\n          - title: Kurs\n            start: 2025-03-02\n"
            "            end: 2025-03-01\n"
        ),
        [
            "F:9:13: error: sections[0].articles[0].events[0]: the event ends (2025-03-01) before it starts (2025-03-02): swap them"
        ],
    ),
    (
        "period-mismatch",
        GOOD.replace(
            "language: nb", "period:\n  start: 2025-01-01\n  end: 2025-06-30\nlanguage: nb"
        ),
        [
            "F:2:1: error: period: does not match the id 2025-q1: it is 2025-01-01 to 2025-03-31; write `start: 2025-01-01` and `end: 2025-03-31` (or remove `period`: it follows from the id)"
        ],
    ),
    (
        "article-missing-title",
        HEAD + "sections:\n  - title: S\n    articles:\n      - body: x\n",
        ["F:5:9: error: sections[0].articles[0].title: `title` is required here: add `title: …`"],
    ),
    (
        "sections-not-list",
        HEAD + "sections: Verdt å merke seg\n",
        [
            'F:2:11: error: sections: expected a list (one `- ` line per item), found the text "Verdt å merke seg"'
        ],
    ),
    (
        "articles-mapping",
        HEAD + "sections:\n  - title: S\n    articles:\n      title: x\n",
        [
            "F:5:7: error: sections[0].articles: expected a list (one `- ` line per item), found fields (a mapping)"
        ],
    ),
    (
        "body-folded-plain",
        article("", "        body: Første avsnitt\n          fortsetter her.\n"),
        [
            "F:7:15: error: sections[0].articles[0].body: this text spans several lines but is not a `|` block, so YAML folded it into one line (paragraphs and lists are lost): write `body: |` and indent the text below it"
        ],
    ),
    (
        "body-folded-gt",
        article("", "        body: >\n          - punkt en\n          - punkt to\n"),
        [
            "F:7:15: error: sections[0].articles[0].body: this text spans several lines but is not a `|` block, so YAML folded it into one line (paragraphs and lists are lost): write `body: |` and indent the text below it"
        ],
    ),
    (
        "image-without-alt",
        article("        image:\n          src: bilde.png\n"),
        [
            "F:9:11: error: sections[0].articles[0].image: image needs alt text: add `alt: …` saying what it shows (or `decorative: true` if it shows nothing that matters)"
        ],
    ),
    (
        "image-decorative-with-alt",
        article(
            "        image:\n          src: bilde.png\n          alt: Logo\n"
            "          decorative: true\n"
        ),
        [
            "F:9:11: error: sections[0].articles[0].image: a decorative image has no alt text: remove `alt`, or remove `decorative: true`"
        ],
    ),
    (
        "image-missing-file",
        article("        image:\n          src: mangler.png\n          alt: X\n"),
        [
            'F:9:16: error: sections[0].articles[0].image.src: image file "mangler.png" not found in 2025-q1/: put the file there or fix the name'
        ],
    ),
    (
        "image-outside-folder",
        article("        image:\n          src: ../kom.yaml\n          alt: X\n"),
        [
            "F:9:16: error: sections[0].articles[0].image.src: the image must be a file inside the issue folder: write its name only, e.g. bilde.png"
        ],
    ),
    (
        "link-without-scheme",
        article("", "        body: Se [regjeringen](www.regjeringen.no).\n"),
        [
            'F:7:18: error: sections[0].articles[0].body: not a link address: "www.regjeringen.no" — write it in full with https://'
        ],
    ),
    (
        "event-url-bad",
        article(
            "        events:\n          - title: Kurs\n            start: 2025-03-02\n"
            "            url: rvts.no/kurs\n"
        ),
        [
            'F:11:18: error: sections[0].articles[0].events[0].url: not a link address: "rvts.no/kurs" — write it in full with https://'
        ],
    ),
    (
        "yaml-colon-in-text",
        article("", "        body: Merk: dette er viktig\n"),
        [
            "F:7:19: error: not valid YAML: mapping values are not allowed here — a colon followed by a space inside text: put the text in quotes, or use `|`"
        ],
    ),
    (
        "yaml-unclosed-quote",
        article("", '        body: "Tekst uten slutt\n'),
        [
            "F:7:15: error: a quoted text is never closed: add the closing quote (or remove the opening one)"
        ],
    ),
    (
        "yaml-two-documents",
        GOOD + "---\ntitle: x\n",
        [
            "F:10:1: error: a second document starts here (a `---` line): an issue is one document; remove it"
        ],
    ),
    (
        "recurring-ja",
        article("        recurring: ja\n"),
        ["F:8:20: error: sections[0].articles[0].recurring: expected true or false, not `ja`"],
    ),
    (
        "section-title-empty",
        HEAD + 'sections:\n  - title: ""\n',
        ["F:3:12: error: sections[0].title: must not be empty"],
    ),
    (
        "recursive-alias",
        HEAD + "sections: &a\n  - title: S\n    articles: *a\n",
        ["F:2:11: error: an alias refers to itself: remove the recursive `*` reference"],
    ),
    (
        "many-errors-at-once",
        article("        deadline: 17. januar\n        colour: blue\n").replace("language", "x"),
        [
            'F:8:19: error: sections[0].articles[0].deadline: "17. januar" is not a date: write it as YYYY-MM-DD, e.g. 2025-01-17',
            "F:9:9: error: sections[0].articles[0].colour: unknown field `colour`: allowed here: after, body, date, deadline, decisions, events, image, recurring, title",
        ],
    ),
    (
        "control-character",
        GOOD.replace("Kort om", "Kort\x0c om"),
        [
            "F:3:16: error: the file contains an invisible control character (U+000C), often pasted from Word or a PDF: delete it"
        ],
    ),
    (
        "bad-key-type",
        GOOD + "[a, b]: x\n",
        ["F:10:1: error: a key must be a plain word, not a list or mapping"],
    ),
    # issue 13: what `build` refused after `check` passed, and what check must know
    (
        "title-control-escapes",
        titled('"Sak \\x07\\x1b"'),
        [
            "F:6:16: error: sections[0].articles[0].title: contains the control character U+0007 (BELL), which no edition can show: delete it (it often comes with pasted text)",
            "F:6:16: error: sections[0].articles[0].title: contains the control character U+001B (ESCAPE), which no edition can show: delete it (it often comes with pasted text)",
        ],
    ),
    (
        "title-next-line-escape",
        titled('"Sak \\x85"'),
        [
            "F:6:16: error: sections[0].articles[0].title: contains the control character U+0085 (NEXT LINE), which no edition can show: delete it (it often comes with pasted text)",
        ],
    ),
    (
        "title-right-to-left-override",
        titled('"Sak \u202e kiT"'),
        [
            "F:6:21: error: sections[0].articles[0].title: contains U+202E (RIGHT-TO-LEFT OVERRIDE), which reorders the text a reader sees (a known trick to disguise words and addresses): delete it",
        ],
    ),
    (
        "title-only-spaces",
        titled('"   "'),
        [
            "F:6:16: error: sections[0].articles[0].title: is empty to a reader: only spaces or invisible characters — write the title, or remove the field",
        ],
    ),
    (
        "title-only-zero-width",
        titled('"\u200b\u200d"'),
        [
            "F:6:16: error: sections[0].articles[0].title: is empty to a reader: only spaces or invisible characters — write the title, or remove the field",
        ],
    ),
    (
        "emoji-in-body",
        article("", "        body: Hei 😀 der.\n"),
        [
            'F:7:19: error: sections[0].articles[0].body: "😀" U+1F600 (GRINNING FACE) cannot be shown in the PDF: its font, Lato, has no such letter — write it another way (e.g. -> for →) or leave it out',
        ],
    ),
    (
        "rare-script-in-title",
        titled("Runer ᚠᛇ"),
        [
            'F:6:22: error: sections[0].articles[0].title: "ᚠ" U+16A0 (RUNIC LETTER FEHU FEOH FE F) cannot be shown in the PDF: its font, Lato, has no such letter — write it another way (e.g. -> for →) or leave it out',
            'F:6:23: error: sections[0].articles[0].title: "ᛇ" U+16C7 (RUNIC LETTER IWAZ EOH) cannot be shown in the PDF: its font, Lato, has no such letter — write it another way (e.g. -> for →) or leave it out',
        ],
    ),
    (
        "link-javascript",
        article("", "        body: Se [her](javascript:alert(1)).\n"),
        [
            "F:7:18: error: sections[0].articles[0].body: link [her](javascript:alert(1)) goes to a javascript: address, which runs code or hides content instead of opening a page: link to a web page (https://…)",
        ],
    ),
    (
        "link-data",
        article("", "        body: Se [her](data:text/html,hei).\n"),
        [
            "F:7:18: error: sections[0].articles[0].body: link [her](data:text/html,hei) goes to a data: address, which runs code or hides content instead of opening a page: link to a web page (https://…)",
        ],
    ),
    (
        "link-vbscript",
        article("", "        body: Se [her](VBScript:msgbox).\n"),
        [
            "F:7:18: error: sections[0].articles[0].body: link [her](VBScript:msgbox) goes to a vbscript: address, which runs code or hides content instead of opening a page: link to a web page (https://…)",
        ],
    ),
    (
        "link-with-space",
        article("", "        body: Se [her](https://www.kom.no/ny side).\n"),
        [
            "F:7:18: error: sections[0].articles[0].body: link [her](https://www.kom.no/ny side) has a space or a quotation mark in its address, so no edition can make it a link: write spaces in an address as %20, and leave out quotation marks",
        ],
    ),
    (
        "link-with-quote",
        article("", "        body: 'Se [her](https://www.kom.no/\"x\").'\n"),
        [
            'F:7:19: error: sections[0].articles[0].body: link [her](https://www.kom.no/"x") has a space or a quotation mark in its address, so no edition can make it a link: write spaces in an address as %20, and leave out quotation marks',
        ],
    ),
    (
        "yaml-unknown-tag",
        titled("!foo bar"),
        [
            'F:6:16: error: sections[0].articles[0].title: `!foo` is a YAML tag nyhetsbrev does not know (a value that starts with "!" makes one): put the text in quotes ("bar"), or remove the "!"',
        ],
    ),
    (
        "deep-nesting",
        titled("[" * 2000 + "]" * 2000),
        [
            "F:6:51: error: values are nested more than 40 levels deep here (lists in lists, `[[[…`): an issue needs a few levels at most — put the text in quotes if it is meant as text",
        ],
    ),
    (
        "too-many-sections",
        HEAD + "preheader: Kort.\nsections:\n" + "  - title: S\n" * 101,
        [
            "F:104:5: error: sections[100]: the issue has 101 sections; an issue may hold at most 100 (docs/authoring.md, Limits): split it into several issues",
        ],
    ),
    (
        "too-many-articles",
        HEAD
        + "preheader: Kort.\nsections:\n  - title: S\n    articles:\n"
        + "      - title: A\n" * 1001,
        [
            "F:1006:9: error: sections[0].articles[1000]: the issue has 1,001 articles; an issue may hold at most 1,000 (docs/authoring.md, Limits): split it into several issues",
        ],
    ),
    (
        "text-too-long",
        article("", "        body: " + "ord " * 12501 + "\n"),
        [
            "F:7:15: error: sections[0].articles[0].body: text is 50,003 characters; one text may hold at most 50,000 (docs/authoring.md, Limits): link to the full text instead",
        ],
    ),
]

#: Inputs that `check` passes (perhaps with warnings): `build` must build every one of them.
PASSING: list[tuple[str, str]] = [
    ("good", GOOD),
    ("no-sections", HEAD + "language: nb\npreheader: Kort.\n"),
    ("zero-width-joiner-in-issue-title", 'title: "Nyhetsbrev\u200dKOM"\n' + GOOD),
    (
        "deep-brackets-as-text",
        article("", '        body: "' + "[" * 2000 + "x" + "]" * 2000 + '"\n'),
    ),
    (
        "quotes-dashes-and-ellipsis",
        article("", "        body: 'Se \"Rapport\" -- nå ... 21.-23. mai.'\n"),
    ),
    ("page-reference", article("", "        body: Se side 2 for mer.\n")),
    (
        "link-with-encoded-space",
        article("", "        body: Se [rapporten](https://www.kom.no/ny%20side).\n"),
    ),
]
