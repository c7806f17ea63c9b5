"""libyaml's C loader (the fast path of `read_yaml`) and PyYAML's pure loader compose the same
nodes with the same marks, on the reference issue, the bad-input table and random text; and
without libyaml everything works as before."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nyhetsbrev.issue import yamlsource
from nyhetsbrev.issue.yamlsource import read_yaml

from .cases import CASES, GOOD

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "newsletters" / "2024-q4" / "issue.yaml"
pytestmark = pytest.mark.skipif(
    not getattr(yaml, "__with_libyaml__", False), reason="PyYAML is built without libyaml here"
)


def tree(node: yaml.Node | None, seen: dict[int, int] | None = None) -> Any:
    """Everything `read_yaml` uses of a node tree: kinds, tags, values, styles, start marks, the
    end line of scalars (a node met again, through an alias, as its number when first met)."""
    if node is None:
        return None
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    where = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):  # C: "" for a plain style; the end only of scalars
        return ("scalar", node.tag, node.value, node.style or None, where, node.end_mark.line)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, where, [tree(item, seen) for item in node.value])
    assert isinstance(node, yaml.MappingNode)
    return ("map", node.tag, where, [(tree(k, seen), tree(v, seen)) for k, v in node.value])


def composed(loader_class: type, text: str) -> Any:
    """The tree, or "invalid" when the loader refuses the text."""
    try:
        loader = loader_class(text)
    except yaml.YAMLError:  # the pure reader refuses control characters at once
        return "invalid"
    try:
        return tree(loader.get_single_node())
    except (yaml.YAMLError, RecursionError):  # 2,000-deep nesting: read_yaml's located error
        return "invalid"
    finally:
        loader.dispose()


def same(text: str) -> None:
    """The fast path's tree is the pure loader's (None: read_yaml asks the pure one)."""
    fast = yamlsource._compose_fast(text)
    pure = composed(yaml.SafeLoader, text)
    assert fast is None or tree(fast) == pure
    if not yamlsource._DIFFERS.search(text) and text.endswith("\n"):  # the fast path's own rules
        assert composed(yaml.CSafeLoader, text) == pure


def test_the_reference_issue_composes_the_same_on_the_fast_path() -> None:
    text = REFERENCE.read_text("utf-8")
    fast = yamlsource._compose_fast(text)
    assert fast is not None  # the reference issue is read by libyaml
    assert tree(fast) == composed(yaml.SafeLoader, text)


@pytest.mark.parametrize(
    "text",
    ["topics: [a, b]\n", "a: {b: c}\n", "a: !!str 1\n", "a: !\n", "a: |#\n  x\n", "a: 1"],
    ids=["flow-seq", "flow-map", "tag", "bare-tag", "header-comment", "no-final-newline"],
)
def test_what_libyaml_reads_otherwise_goes_to_the_pure_loader(text: str) -> None:
    assert yamlsource._compose_fast(text) is None


def _as_text(content: str | bytes) -> str | None:
    """The case as YAML text; None for bytes that are refused before YAML is read."""
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


TEXT_CASES = [(c[0], text) for c in CASES if (text := _as_text(c[1])) is not None] + [
    ("good", GOOD)
]


@pytest.mark.parametrize(("name", "content"), TEXT_CASES)
def test_every_bad_input_composes_the_same_or_fails_in_both(name: str, content: str) -> None:
    same(content)


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(
        alphabet=string.printable.replace("\t", "") + "æøåÆØÅ:-#&*!|>'\"[]{}%@`", max_size=300
    )
)
def test_random_text_composes_the_same_or_fails_in_both(text: str) -> None:
    same(text)
    same(text + "\n")


def test_without_libyaml_read_yaml_gives_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: a PyYAML without its C extension (cannot be uninstalled for one test)."""
    fast = read_yaml(REFERENCE, "issue.yaml")
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert yamlsource._compose_fast("a: 1") is None
    pure = read_yaml(REFERENCE, "issue.yaml")
    assert fast[0] == pure[0]
    assert (fast[1].values, fast[1].keys, fast[1].scalars) == (
        pure[1].values,
        pure[1].keys,
        pure[1].scalars,
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: 'never closed\nlanguage: nb\n", "utf-8")
    with pytest.raises(yamlsource.YamlProblem) as problem:
        read_yaml(bad, "bad.yaml")
    assert problem.value.finding.message.startswith("a quoted text is never closed")
