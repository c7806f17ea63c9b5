"""Reading a contact CSV as editors have it: Excel or Outlook, `;` or `,`, UTF-8 (BOM) or cp1252."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nyhetsbrev.errors import ContactsError

#: The fields a column can fill, and `ignore`.
FIELDS = (
    "email",
    "name",
    "first_name",
    "last_name",
    "organisation",
    "sector",
    "language",
    "topics",
    "notes",
    "status",
)

# Header names as Excel sheets and Outlook exports spell them, Norwegian and English, folded
# (lower case, æøå → ae/o/a, only letters and digits): "E-post" → "epost".
_ALIASES = {
    "email": "email epost epostadresse emailadresse emailaddress mail mailadresse "
    "epostadr emailadr email1 epost1 emailaddress1",
    "name": "name navn fulltnavn fullname displayname visningsnavn kontaktperson",
    "first_name": "firstname fornavn givenname",
    "last_name": "lastname etternavn surname familyname",
    "organisation": "organisation organization organisasjon org company firma virksomhet "
    "arbeidsgiver etat institusjon",
    "sector": "sector sektor",
    "language": "language lang sprak malform",
    "topics": "topics topic emner emne tema temaer",
    "notes": "notes note notater notat merknad merknader kommentar kommentarer comments",
    "status": "status",
}
HEADER_ALIASES = {alias: f for f, names in _ALIASES.items() for alias in names.split()}
_FORMULA_GUARD = re.compile(r"'[=+\-@\t\r]")


def fold(text: str) -> str:
    """Header comparison form: "E-postadresse" → "epostadresse", "Språk" → "sprak"."""
    text = text.strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum())


@dataclass
class CsvTable:
    """A decoded, parsed CSV file: its header and its rows with their (first) line numbers."""

    shown: str
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    header_line: int = 1
    columns: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def describe(self) -> str:
        names = {";": '";"', ",": '","', "\t": "tab"}
        return f"{self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}-separated"


def decode(raw: bytes, shown: str, encoding: str | None = None) -> tuple[str, str]:
    """`(text, encoding label)`: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252."""
    if encoding:
        try:
            codecs.lookup(encoding)
            return raw.decode(encoding), encoding
        except LookupError:
            raise ContactsError(
                f'--encoding "{encoding}" is not an encoding Python knows — try utf-8 or cp1252'
            ) from None
        except UnicodeDecodeError as exc:
            raise _decode_error(raw, exc, shown, f"not valid {encoding}") from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            exc.start += 3
            raise _decode_error(raw, exc, shown, "not valid UTF-8 despite its UTF-8 mark") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise ContactsError(
                f"{shown}: not valid UTF-16 despite its UTF-16 mark — save it again from Excel "
                'as "CSV UTF-8 (comma delimited)"'
            ) from None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        try:
            return raw.decode(utf16), f"{utf16.upper()} without BOM"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise _decode_error(raw, exc, shown, "neither UTF-8 nor Windows-1252") from None


def _utf16_without_bom(raw: bytes) -> str | None:
    """`utf-16-le`/`utf-16-be` when NUL is every other byte (text in CSV is mostly Latin: in
    UTF-16 every such character has a zero byte), else None. Unmistakable: no UTF-8 or
    Windows-1252 CSV has NUL bytes at all."""
    sample = raw[:4000]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _decode_error(raw: bytes, exc: UnicodeDecodeError, shown: str, what: str) -> ContactsError:
    line = raw[: exc.start].count(b"\n") + 1
    return ContactsError(
        f"{shown}:{line}: {what} (byte 0x{raw[exc.start]:02x}) — save the file again from Excel "
        'as "CSV UTF-8 (comma delimited)", or name its encoding with --encoding'
    )


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: the most frequent of `;`, `,` and tab outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    path: Path, shown: str, *, delimiter: str | None = None, encoding: str | None = None
) -> CsvTable:
    """Decode and parse a whole file. Blank lines are skipped; rows keep their line numbers."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContactsError(f"{shown}: cannot read it ({exc.strerror})") from None
    text, label = decode(raw, shown, encoding)
    if delimiter == "tab":
        delimiter = "\t"
    sep = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    header_line = 1
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not any(cells) or not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_line = [c.strip() for c in cells], start
            else:
                if any(c[:1] == "'" for c in cells):
                    cells = [_unguard(c) for c in cells]
                rows.append((start, cells))
    except csv.Error as exc:
        raise ContactsError(
            f"{shown}:{previous + 1}: the file cannot be read as CSV here ({exc}) — a quote "
            '(") opened in this row is probably never closed; fix it and import again'
        ) from None
    if header is None:
        raise ContactsError(
            f"{shown}: the file is empty — export the contact list with a header row"
        )
    return CsvTable(shown, label, sep, header, rows, header_line)


def _unguard(cell: str) -> str:
    """Undo the `'` our export puts before cells that look like formulas."""
    return cell[1:] if _FORMULA_GUARD.match(cell) else cell


def map_columns(table: CsvTable, overrides: Sequence[str] = ()) -> None:
    """Decide which column fills which field (`--map "Header=field"` first, then known names).

    Sets `table.columns` (field → column index) and `table.ignored` (unused header names).
    """
    columns: dict[str, int] = {}
    taken: set[int] = set()
    where = f"{table.shown}:{table.header_line}"
    for item in overrides:
        header, sep, target = item.partition("=")
        header, target = header.strip(), target.strip().lower()
        if not sep or not header or target not in (*FIELDS, "ignore"):
            raise ContactsError(
                f'--map "{item}": write it as "COLUMN=FIELD", where FIELD is one of '
                f"{', '.join(FIELDS)} or ignore"
            )
        index = _find_header(table.header, header)
        if index is None:
            raise ContactsError(
                f'--map "{item}": {where}: the file has no column "{header}" — its columns are: '
                + ", ".join(f'"{h}"' for h in table.header)
            )
        taken.add(index)
        if target != "ignore":
            columns[target] = index
    for index, name in enumerate(table.header):
        known = HEADER_ALIASES.get(fold(name))
        if index in taken or known is None:
            continue
        if known in columns:
            first = table.header[columns[known]]
            at = columns[known] + 1
            # identical names cannot tell --map which one: name the columns by position
            pick = str(at) if fold(first) == fold(name) else first
            raise ContactsError(
                f'{where}: two columns could be the {known} column (column {at} "{first}" and '
                f'column {index + 1} "{name}") — choose one with --map "{pick}={known}"'
            )
        columns[known] = index
        taken.add(index)
    if "email" not in columns and any("@" in name for name in table.header):
        raise ContactsError(
            f"{where}: the first row holds addresses, not column names — add a header row "
            "(e.g. E-post;Navn;Organisasjon) or name the columns with --map"
        )
    if "email" not in columns:
        raise ContactsError(
            f"{where}: no email column among "
            + ", ".join(f'"{h}"' for h in table.header)
            + ' — name it with --map "COLUMN=email"'
        )
    table.columns = columns
    table.ignored = [h for i, h in enumerate(table.header) if i not in taken and h]


def _find_header(header: Sequence[str], wanted: str) -> int | None:
    """The column named `wanted` (exactly, then ignoring case), else the column at that
    position (1-based: `--map "3=name"`), else None."""
    for index, name in enumerate(header):
        if name == wanted:
            return index
    for index, name in enumerate(header):
        if name.casefold() == wanted.casefold():
            return index
    if wanted.isascii() and wanted.isdigit() and 0 < int(wanted) <= len(header):
        return int(wanted) - 1
    return None
