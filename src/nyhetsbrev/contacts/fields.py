"""A contact's text fields: the one check every way onto the list uses (sign-up form, `add`,
`edit`, import), and the escaping of whatever is printed to an editor's terminal.

Names, organisations, sectors and notes may not hold control characters (NUL, ESC, BEL …,
which reach terminals, exports and mail headers) or the invisible direction marks used to
disguise text (U+202E and the like), and have length limits a mail header and a table can take.
"""

from __future__ import annotations

import re

#: Longest accepted values, in characters (RFC 5321 caps an address at 254).
FIELD_LIMITS = {"email": 254, "name": 200, "organisation": 200, "sector": 100, "notes": 2000}
#: Control characters, and the invisible direction marks and overrides used to disguise text.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_DIRECTION = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Whitespace: a line break inside a quoted CSV cell is kept (the form collapses it to a space).
_WHITESPACE = "\n\r\t"


def text_problem(field: str, value: str) -> str | None:
    """Why `value` cannot be the contact's `field` (None when it can)."""
    limit = FIELD_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        return f"{len(value)} characters, at most {limit}: shorten it"
    for found in UNPRINTABLE.finditer(value):
        char = found.group()
        if char in _WHITESPACE:
            continue
        kind = "an invisible direction mark" if _DIRECTION.match(char) else "a control character"
        return (
            f"{kind} (U+{ord(char):04X}) at character {found.start() + 1}, often pasted from "
            "another program: remove it"
        )
    return None


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters and direction marks as \\x1b, \\u202e."""

    def escape(found: re.Match[str]) -> str:
        code = ord(found.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return UNPRINTABLE.sub(escape, text)
