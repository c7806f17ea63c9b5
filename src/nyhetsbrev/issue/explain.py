"""pydantic's validation errors → located findings an editor can act on.

Each error is placed at its key or value (`file:line:col`) and explained in the editor's terms:
what YAML made of what they wrote (`no` → false, unquoted dates, numbers) and how to write it.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted

ISO_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def _data_path(loc: tuple[Any, ...], data: Any, kind: str) -> FieldPath:
    """Keep the parts of a pydantic location that name real keys/indices in the data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif kind in ("missing", "extra_forbidden") and i == len(loc) - 1 and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _model_at(model: type[BaseModel], path: FieldPath) -> type[BaseModel] | None:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                inner = _unwrap(arg)
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    return inner
        return None
    return annotation


def explain(
    exc: ValidationError, data: Any, source: SourceMap, model: type[BaseModel]
) -> list[Finding]:
    findings: dict[FieldPath, Finding] = {}
    for err in _relevant(exc.errors(include_url=False)):
        kind = err["type"]
        path = _data_path(err["loc"], data, kind)
        if path in findings:
            continue
        message = _message(err, path, source, model)
        mark = (
            source.mark(path) if kind in ("missing", "extra_forbidden") else source.value_mark(path)
        )
        if kind == "missing":
            mark = source.mark(path[:-1])
        findings[path] = Finding(source.file, mark.line, mark.col, "error", message, dotted(path))
    return list(findings.values())


#: The per-language branches of a masthead text (`title: {nb: …, en: …}`), named in error locations.
_PER_LANGUAGE = ("PerLanguage", "PerLanguageMarkdown")


def _relevant(errors: list[Any]) -> list[Any]:
    """Leave out "expected text" for a masthead text written per language when the per-language
    branch has its own, more precise errors (`title.se: unknown field`)."""
    per_language = {
        tuple(e["loc"][: e["loc"].index(b)]) for e in errors for b in _PER_LANGUAGE if b in e["loc"]
    }
    return [
        e
        for e in errors
        if not (
            e["type"] == "string_type"
            and isinstance(e.get("input"), dict)
            and tuple(e["loc"][:-1]) in per_language
        )
    ]


def _message(err: Any, path: FieldPath, source: SourceMap, model: type[BaseModel]) -> str:
    kind, value = err["type"], err.get("input")
    info = source.scalars.get(path)
    raw = info.raw if info else repr(value)
    name = str(path[-1]) if path else "file"
    if kind == "missing":
        return f"`{name}` is required here: add `{name}: …`"
    if kind == "extra_forbidden":
        parent = _model_at(model, path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        if any(branch in err["loc"] for branch in _PER_LANGUAGE):
            allowed = ["nb", "nn", "en", "sv"]
        import difflib  # only for a misspelt name

        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f'did you mean "{close[0]}"?' if close else f"allowed here: {', '.join(allowed)}"
        return f"unknown field `{name}`: {hint}"
    if isinstance(value, bool) and info and info.style is None and kind != "bool_type":
        if name == "language":
            return (
                f"YAML reads `{raw}` as {str(value).lower()}, not a language: write one of "
                "nb, nn, en, sv (Norwegian Bokmål is nb)"
            )
        word = str(value).lower()
        return f'YAML reads `{raw}` as {word} (a yes/no value): put it in quotes: "{raw}"'
    if kind in (
        "date_type",
        "datetime_type",
        "date_parsing",
        "date_from_datetime_inexact",
        "date_from_datetime_parsing",
        "datetime_parsing",
    ):
        if isinstance(value, str) and ISO_DAY.match(value.strip()):
            return (
                f'"{value}" is in quotes, so YAML reads it as text, not a date: remove the quotes'
            )
        if isinstance(value, dt.datetime):
            return f"`{raw}` has a time of day; write only the date: {value.date().isoformat()}"
        return f'"{raw}" is not a date: write it as YYYY-MM-DD, e.g. 2025-01-17'
    if kind == "string_type":
        if isinstance(value, dt.date):
            return f'YAML reads `{raw}` as a date, but text is expected: put it in quotes: "{raw}"'
        if isinstance(value, int | float):
            return (
                f'YAML reads `{raw}` as a number, but text is expected: put it in quotes: "{raw}"'
            )
        if value is None:
            return "is empty: write the text after the colon, or remove the line"
        return f"expected text, found {_kind(value)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        choices = re.findall(r"'([^']*)'", expected)
        import difflib  # only for a misspelt value

        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = f' — did you mean "{close[0]}"?' if close else ""
        return f'"{raw}" is not one of {", ".join(choices)}{hint}'
    if kind == "bool_type":
        return f"expected true or false, not `{raw}`"
    if kind == "list_type":
        return f"expected a list (one `- ` line per item), found {_kind(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected fields (`key: value` lines) here, found {_kind(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    message = str(err.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "fields (a mapping)"
    if isinstance(value, str):
        return f'the text "{value[:40]}"'
    return f"`{value}`"
