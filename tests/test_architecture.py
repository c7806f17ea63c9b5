"""The house's rules that no single test of behaviour sees: imports point down the floors of
docs/architecture.md ("Floors"), and the repository holds no symbolic link."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, require_tool

PACKAGE = REPO / "src" / "nyhetsbrev"
MODULE_NAME = re.compile(r"nyhetsbrev(\.[a-z_][a-z0-9_]*)+")

# Lowest first; a module may import its own floor and those below it, never one above.
FLOORS = ["base", "issue", "render", "contacts", "delivery", "bounces", "records", "web", "cli"]
TOP_LEVEL = {
    "nyhetsbrev": "base",
    "nyhetsbrev.errors": "base",
    "nyhetsbrev.workspace": "base",
    "nyhetsbrev.i18n": "base",
    "nyhetsbrev.theme": "base",
    "nyhetsbrev.themes": "base",  # the packaged theme folders (data, an empty __init__)
    "nyhetsbrev.cli_support": "base",
    "nyhetsbrev.migrate": "base",
    "nyhetsbrev.brand": "issue",  # reads brand.yaml with line marks, reports findings
    "nyhetsbrev.cli": "cli",
    "nyhetsbrev.__main__": "cli",
    "nyhetsbrev.theme_commands": "cli",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor_of(module: str) -> str:
    """The floor of a module of the package: its subpackage, or the table for top-level ones."""
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in FLOORS:
        return parts[1]
    if len(parts) > 2 and module.rsplit(".", 1)[0] in TOP_LEVEL:  # e.g. nyhetsbrev.cli.x
        return TOP_LEVEL[module.rsplit(".", 1)[0]]
    raise AssertionError(f"{module} is on no floor: add it to FLOORS or TOP_LEVEL (and the doc)")


def is_cli_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in ("cli", "commands", "__main__") or last.endswith("_commands")


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """Every nyhetsbrev module `path` imports: at module level, inside functions and under
    TYPE_CHECKING alike, and `importlib.import_module("…")` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # `from nyhetsbrev.issue import load` imports the module nyhetsbrev.issue.load
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                target = candidate if _is_module(candidate) else source
                found.append((node.lineno, target))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "import_module":
                dynamic = True
    if dynamic:
        # A module that imports by name: every string naming one of ours is an import, whether
        # it is the call's literal or sits in a table (`EXTENSIONS = ("nyhetsbrev.x.y",)`).
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = node.value.split(":", 1)[0]
                if MODULE_NAME.fullmatch(named) and _is_module(named):
                    found.append((node.lineno, named))
    return [(line, name) for line, name in found if name.split(".")[0] == "nyhetsbrev"]


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative).is_dir()


def violations() -> dict[str, str]:
    """'A imports B (why)' → where, for every import that breaks the floors."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        floor = FLOORS.index(floor_of(module))
        for line, target in imports_of(path, module):
            where = f"{path.relative_to(REPO).as_posix()}:{line}"
            target_floor = floor_of(target)
            if FLOORS.index(target_floor) > floor:
                found[f"{module} imports {target} ({floor_of(module)} < {target_floor})"] = where
            elif is_cli_module(target) and not is_cli_module(module):
                found[f"{module} imports {target} (a CLI module)"] = where
    return found


def test_imports_point_down_the_floors() -> None:
    found = violations()
    assert not found, (
        "imports that point up the floors (docs/architecture.md, Floors):\n"
        + "\n".join(f"{where}: {rule}" for rule, where in sorted(found.items()))
    )


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from nyhetsbrev.render import email",
            "nyhetsbrev.issue.x",
            "nyhetsbrev.render.email",
        ),
        (
            "from ..delivery.tokens import sign",
            "nyhetsbrev.contacts.x",
            "nyhetsbrev.delivery.tokens",
        ),
        ("def f():\n    import nyhetsbrev.web.cli", "nyhetsbrev.issue.x", "nyhetsbrev.web.cli"),
        (
            "import importlib\nimportlib.import_module('nyhetsbrev.delivery.schema')",
            "nyhetsbrev.contacts.x",
            "nyhetsbrev.delivery.schema",
        ),
        (
            "from importlib import import_module\nEXT = ('nyhetsbrev.web.cli:serve',)\n"
            "def load(name):\n    import_module(name)",
            "nyhetsbrev.contacts.x",
            "nyhetsbrev.web.cli",
        ),
        (
            "X = 'nyhetsbrev.web.cli'  # a name, but nothing imports by name",
            "nyhetsbrev.issue.x",
            None,
        ),
        ("from . import findings", "nyhetsbrev.issue.x", "nyhetsbrev.issue.findings"),
    ],
)
def test_every_kind_of_import_is_seen(
    tmp_path: Path, source: str, module: str, expected: str | None
) -> None:
    path = tmp_path / "x.py"
    path.write_text(source, encoding="utf-8")
    assert [name for _, name in imports_of(path, module)] == ([expected] if expected else [])


def test_the_floors_of_the_doc_are_the_floors_of_the_test() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    floors = doc.split("## Floors", 1)[1].split("\n## ", 1)[0]
    assert " < ".join(FLOORS) in floors
    for module, floor in TOP_LEVEL.items():
        if module != "nyhetsbrev":
            last = module.rsplit(".", 1)[1]
            row = next(line for line in floors.splitlines() if line.startswith(f"| {floor} |"))
            assert f"`{last}`" in row or f"`{last}.py`" in row or f"`{last}/`" in row, module


def test_the_repository_holds_no_symbolic_link() -> None:
    """A link checks out on Windows as a small text file: templates/kom once did."""
    git = require_tool("git")
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        [git, "ls-files", "-s"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert listed.count("\n") > 100  # the listing is real
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000 ")]
    assert links == [], f"symbolic links in the repository: {links}"
