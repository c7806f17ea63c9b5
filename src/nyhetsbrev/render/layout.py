"""Presentation rules every edition follows, so the email, text, web page and PDF agree."""

from __future__ import annotations

from collections.abc import Sequence

from nyhetsbrev.issue.model import Section


def contact_box_after(sections: Sequence[Section]) -> frozenset[int]:
    """The sections the "Kontakt oss" box follows (by index): the one marked `contact_box`, or,
    when none is, the last section — so every edition shows it exactly once.

    Templates get it as `extra.contact_box_after`:
    `{% if loop.index0 in extra.contact_box_after %}`.
    """
    marked = frozenset(i for i, section in enumerate(sections) if section.contact_box)
    if marked or not sections:
        return marked
    return frozenset({len(sections) - 1})
