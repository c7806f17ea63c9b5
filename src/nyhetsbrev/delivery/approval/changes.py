"""Which sections changed between two builds: a diff of their text editions by section heading.

The text edition underlines each section heading with `=` (articles with `-`), so it splits
cleanly into the part before the first section (cover, contents) and one part per section.
"""

from __future__ import annotations

from collections import Counter

COVER = "the cover and contents"


def split_sections(text: str) -> list[tuple[str, str]]:
    """(heading, text) per section in order; the part before the first heading is `COVER`.

    A heading that occurs twice (KOM's "Verdt å merke seg" does) is named "… (2nd)".
    """
    lines = text.replace("\r\n", "\n").split("\n")
    parts: list[tuple[str, list[str]]] = [(COVER, [])]
    seen: Counter[str] = Counter()
    for index, line in enumerate(lines):
        below = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and below and set(below) == {"="} and len(below) >= len(line.strip()):
            heading = line.strip()
            seen[heading] += 1
            name = heading if seen[heading] == 1 else f"{heading} ({_ordinal(seen[heading])})"
            parts.append((name, []))
        parts[-1][1].append(line)
    return [(name, "\n".join(body).strip()) for name, body in parts]


def changed_sections(before: str, after: str) -> list[str]:
    """What differs between two text editions, one entry per section: quoted headings, with
    "(new)" or "(removed)" for a section only one of them has."""
    old = dict(split_sections(before))
    new = dict(split_sections(after))
    out = []
    for name, body in new.items():
        label = name if name == COVER else f'"{name}"'
        if name not in old:
            out.append(f"{label} (new)")
        elif old[name] != body:
            out.append(label)
    out.extend(f'"{name}" (removed)' for name in old if name not in new)
    return out


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"
