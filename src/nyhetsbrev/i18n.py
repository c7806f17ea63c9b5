"""Dates and periods in the issue's language (nb, nn, en, sv), through Babel."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel and its locale data load on the first date formatted: not for `check`
    from babel import Locale

EN_DASH = "\u2013"


@lru_cache(maxsize=8)
def locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(language)


def _babel_format_date(day: dt.date, pattern: str, locale: Locale) -> str:
    from babel.dates import format_date

    return format_date(day, pattern, locale=locale)


def month_name(day: dt.date, language: str) -> str:
    """The stand-alone month name as it is written mid-sentence: "oktober", "October"."""
    return _babel_format_date(day, "LLLL", locale=locale(language))


def period_label(start: dt.date, end: dt.date, language: str) -> str:
    """2024-10-01..2024-12-31, nb → "oktober–desember 2024"."""
    first, last = month_name(start, language), month_name(end, language)
    if start.year != end.year:
        return f"{first} {start.year}{EN_DASH}{last} {end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{first} {start.year}"
    return f"{first}{EN_DASH}{last} {end.year}"


def format_day(day: dt.date, language: str, *, year: bool = True) -> str:
    """17 January 2025 → "17. januar 2025" (nb/nn), "17 januari 2025" (sv), "17 January 2025"."""
    if language in ("nb", "nn"):
        pattern = "d. MMMM y" if year else "d. MMMM"
    else:
        pattern = "d MMMM y" if year else "d MMMM"
    return _babel_format_date(day, pattern, locale=locale(language))


def format_range(start: dt.date, end: dt.date | None, language: str) -> str:
    """Event dates: "15.–16. januar 2025", "30. april–2. mai 2025", "15–16 January 2025"."""
    if end is None or end == start:
        return format_day(start, language)
    dot = "." if language in ("nb", "nn") else ""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}{dot}{EN_DASH}{format_day(end, language)}"
    if start.year == end.year:
        return f"{format_day(start, language, year=False)}{EN_DASH}{format_day(end, language)}"
    return f"{format_day(start, language)}{EN_DASH}{format_day(end, language)}"


def format_numeric(day: dt.date, language: str) -> str:
    """Court-decision style: "10.10.2024" (nb, nn), ISO "2024-10-10" (sv), "10 October 2024" (en).

    English has no numeric form every reader reads the same way (10/11 is 10 November in Britain,
    October 11 in the US), so it spells the month out.
    """
    if language in ("nb", "nn"):
        return day.strftime("%d.%m.%Y")
    if language == "sv":
        return day.isoformat()
    return format_day(day, language)


def as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
