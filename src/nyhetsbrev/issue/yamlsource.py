"""Read a YAML file into plain values while keeping where every key and value stood.

PyYAML's `safe_load` forgets positions and silently keeps the last of two duplicate keys; here
the file is composed into nodes and built by hand, so every later error can name `line:col`, and
the traps of YAML (tabs, duplicate keys, non-UTF-8 bytes, huge or empty files) are caught first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nyhetsbrev.issue.findings import Finding

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
# What YAML refuses to read: C0 controls other than tab/newline/CR, DEL, C1 controls, and so on.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
FieldPath = tuple[str | int, ...]
# What libyaml reads otherwise than PyYAML (found by fuzzing both), besides flow collections
# (`[a, b]`, `{a: b}`, see _has_flow): a tag (`!`, `!!str`; libyaml resolves a bare `!` as
# text), a block scalar's header followed by `#` (libyaml accepts it).
_DIFFERS = re.compile(r"(?:^|[\s\[\]{},])!|[|>][-+0-9]*#")
TOO_MANY = (
    f"the file expands to more than {MAX_NODES:,} values: aliases (`*name`) that repeat other "
    "aliases multiply (a 'billion laughs' file, a way to exhaust memory): write the values out, "
    "or remove the aliases"
)


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(frozen=True)
class ScalarInfo:
    raw: str  # the scalar as written (without quotes)
    style: str | None  # None plain, "'" or '"' quoted, "|" literal, ">" folded
    tag: str  # what YAML resolved it to, e.g. tag:yaml.org,2002:bool
    start: Mark
    end_line: int


@dataclass
class SourceMap:
    """Where each field path of a loaded file stands in the file."""

    file: str
    lines: list[str] = field(default_factory=list)
    values: dict[FieldPath, Mark] = field(default_factory=dict)
    keys: dict[FieldPath, Mark] = field(default_factory=dict)
    scalars: dict[FieldPath, ScalarInfo] = field(default_factory=dict)

    def mark(self, path: FieldPath) -> Mark:
        """The key's position if the path names a key, else the value's, else the nearest parent."""
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Mark(1, 1)

    def value_mark(self, path: FieldPath) -> Mark:
        return self.values.get(path) or self.mark(path)


class YamlProblem(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def read_yaml(path: Path, shown: str) -> tuple[Any, SourceMap, list[Finding]]:
    """Load `path` (shown to people as `shown`). Fatal problems raise `YamlProblem`."""

    def fatal(message: str, line: int = 1, col: int = 1) -> YamlProblem:
        return YamlProblem(Finding(shown, line, col, "error", message))

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise fatal("file not found") from None
    if path.is_dir():
        raise fatal("is a folder, not a file")
    if size > MAX_BYTES:
        raise fatal(
            f"file is {size / 1024 / 1024:.1f} MB; a newsletter file is at most "
            f"{MAX_BYTES // 1024 // 1024} MB — is this the right file?"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise fatal(
            f"not UTF-8 text (byte 0x{data[exc.start]:02X}); save the file as UTF-8 "
            "(in Notepad: Save as → Encoding: UTF-8)",
            line,
            col,
        ) from None
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise fatal(
            "file is empty: it needs at least the fields of an issue (see docs/authoring.md)"
        )
    if "\x00" in text:
        raise fatal("file contains NUL bytes: it is not a text file")
    source = SourceMap(shown, text.splitlines())
    for number, line_text in enumerate(source.lines, 1):
        indent = len(line_text) - len(line_text.lstrip(" \t"))
        if "\t" in line_text[:indent]:
            col = line_text.index("\t") + 1
            raise fatal("a tab in the indentation: YAML needs spaces; replace the tab", number, col)
    bad = _CONTROL.search(text)
    if bad:
        preceding = text[: bad.start()]
        raise fatal(
            f"the file contains an invisible control character (U+{ord(bad.group()):04X}), "
            "often pasted from Word or a PDF: delete it",
            preceding.count("\n") + 1,
            bad.start() - (preceding.rfind("\n") + 1) + 1,
        )
    node = _compose_fast(text)
    if node is None:
        node = _compose_pure(text, fatal)
    if node is None:
        raise fatal(
            "file is empty: it needs at least the fields of an issue (see docs/authoring.md)"
        )
    builder = _Builder(source)
    try:
        value = builder.build(node, ())
    except RecursionError:
        line, col = _too_deep(text)
        raise fatal(_DEEP, line, col) from None
    return value, source, builder.findings


def _compose_fast(text: str) -> yaml.Node | None:
    """The file's node tree by libyaml (PyYAML's C parser: the same nodes, tags and marks as
    the pure one, several times faster; "" for a plain style), or None: libyaml is missing, the
    text is not valid YAML, or it uses what libyaml reads otherwise — then the pure loader reads
    it, so every message and position of an error is its own (the hints are in its words)."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None or not getattr(yaml, "__with_libyaml__", False):
        return None
    if _DIFFERS.search(text) or not text.endswith("\n"):
        return None  # also: without a final newline, marks at the very end differ
    loader = loader_class(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    return None if node is None or _has_flow(node) else node


def _has_flow(root: yaml.Node) -> bool:
    """Whether a `[…]` or `{…}` collection is in the tree: in those libyaml accepts texts that
    PyYAML refuses and marks empty values a column later, so the pure loader reads such a file."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, yaml.ScalarNode):
            continue
        seen.add(id(node))
        if getattr(node, "flow_style", False):
            return True
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        else:
            stack.extend(node.value)
    return False


def _compose_pure(text: str, fatal: Callable[..., YamlProblem]) -> yaml.Node | None:
    """The node tree by PyYAML's pure-Python loader; invalid YAML is a located `YamlProblem`."""
    loader = yaml.SafeLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except RecursionError:  # PyYAML composes nested values recursively
        line, col = _too_deep(text)
        raise fatal(_DEEP, line, col) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "not valid YAML").strip()
        context = (exc.context or "").strip()
        message = f"not valid YAML: {problem}{_yaml_hint(problem)}"
        if "quoted scalar" in context and exc.context_mark is not None:
            mark = exc.context_mark
            message = (
                "a quoted text is never closed: add the closing quote (or remove the opening one)"
            )
        elif "single document" in context:
            message = (
                "a second document starts here (a `---` line): an issue is one document; remove it"
            )
        raise fatal(
            message,
            (mark.line + 1) if mark else 1,
            (mark.column + 1) if mark else 1,
        ) from None
    except yaml.YAMLError as exc:
        raise fatal(f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return node


MAX_DEPTH = 40  # an issue needs 7 levels (sections → articles → events → …)
_DEEP = (
    f"values are nested more than {MAX_DEPTH} levels deep here (lists in lists, `[[[…`): an "
    "issue needs a few levels at most — put the text in quotes if it is meant as text"
)
_OPEN = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
         yaml.BlockMappingStartToken)  # fmt: skip
_CLOSE = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)


def _too_deep(text: str) -> tuple[int, int]:
    """Where nesting first goes past MAX_DEPTH (PyYAML's scanner is not recursive)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    return token.start_mark.line + 1, token.start_mark.column + 1
            elif isinstance(token, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        pass
    return 1, 1


def dotted(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _yaml_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return " — a colon followed by a space inside text: put the text in quotes, or use `|`"
    if "could not find expected ':'" in problem:
        return " — a line is missing `key:` or is indented wrongly"
    if "found character '\\t'" in problem:
        return " — replace the tab with spaces"
    if "expected <block end>" in problem:
        return " — check the indentation of this line against the one above"
    return ""


class _Builder:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.findings: list[Finding] = []
        self.count = 0
        self.active: set[int] = set()
        self.constructor = yaml.SafeLoader("")

    def error(self, mark: Mark, message: str, path: FieldPath = ()) -> None:
        self.findings.append(
            Finding(self.source.file, mark.line, mark.col, "error", message, dotted(path))
        )

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            at = node.start_mark
            raise YamlProblem(
                Finding(self.source.file, at.line + 1, at.column + 1, "error", TOO_MANY)
            )
        mark = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        self.source.values.setdefault(path, mark)
        if id(node) in self.active:
            self.error(mark, "an alias refers to itself: remove the recursive `*` reference")
            return None
        if node.tag.startswith("!") and not node.tag.startswith("!!"):
            written = f'"{node.value}"' if isinstance(node, yaml.ScalarNode) else "the value"
            self.error(
                mark,
                f"`{node.tag}` is a YAML tag nyhetsbrev does not know (a value that starts with "
                f'"!" makes one): put the text in quotes ({written}), or remove the "!"',
                path,
            )
            return node.value if isinstance(node, yaml.ScalarNode) else None
        if isinstance(node, yaml.ScalarNode):
            self.source.scalars[path] = ScalarInfo(  # libyaml writes a plain style as ""
                node.value, node.style or None, node.tag, mark, node.end_mark.line + 1
            )
            try:
                return self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError):
                self.error(
                    mark,
                    f'"{node.value}" looks like a date but is not a real one: check the day and '
                    "month (YYYY-MM-DD)",
                    path,
                )
                return node.value
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        return None  # pragma: no cover

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_mark = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_mark, "a key must be a plain word, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in first_seen:
                self.error(
                    key_mark,
                    f"`{key}` appears twice here (first at line {first_seen[key]}); YAML would "
                    "silently keep only the last one: remove or rename one of them",
                )
                continue
            first_seen[key] = key_mark.line
            self.source.keys[(*path, key)] = key_mark
            out[key] = self.build(value_node, (*path, key))
        return out
