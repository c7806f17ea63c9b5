"""The top of the command: verbs in the editor's order, help that imports nothing heavy, a
suggestion for a mistyped verb, `theme copy`, and a preview that keeps uvicorn's lines quiet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from nyhetsbrev.theme import find_theme, packaged_theme_path
from nyhetsbrev.workspace import Workspace
from tests.conftest import REPO
from tests.web.conftest import free_port

Cli = Callable[..., Result]

# What `nyhetsbrev --help` and `VERB --help` must not import: the database, web, DKIM, PDF and
# template stacks, the issue model (pydantic), Markdown, Babel's locale data and rich's console.
HEAVY = (
    "sqlalchemy", "starlette", "uvicorn", "dkim", "dns", "typst", "jinja2", "watchfiles",
    "pydantic", "markdown_it", "babel", "rich",
)  # fmt: skip
ORDER = [
    "init", "new", "check", "build", "preview", "send", "approve", "approvals",
    "campaigns", "archive", "contacts", "bounces", "serve", "schema", "theme", "migrate",
]  # fmt: skip


def imported_by(*args: str) -> set[str]:
    """The top-level packages a fresh `python -m nyhetsbrev ARGS` imports, from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "nyhetsbrev", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: python -m nyhetsbrev" in done.stdout
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name.split(".")[0])
    assert "click" in names  # the parse found the imports at all
    return names


def test_the_verbs_are_listed_in_the_editors_order_and_whole(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    listing = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listing] == ORDER
    assert listing[3] == "  build      Build the email, text, web and PDF editions."
    assert listing[5] == "  send       Send an issue (a dry run without --confirm)."
    assert listing[14] == "  theme      Copy the packaged theme here to change it."
    assert not any("..." in line or "…" in line for line in listing)


def test_every_verb_of_the_table_shows_its_own_help(cli: Cli) -> None:
    for verb in ORDER:
        result = cli(verb, "--help")
        assert result.exit_code == 0, (verb, result.output)
        assert result.output.startswith(f"Usage: main {verb} "), (verb, result.output)


def test_help_imports_nothing_heavy() -> None:
    assert sorted(imported_by("--help") & set(HEAVY)) == []
    assert "shutil" not in imported_by("--help")  # the width comes from the terminal directly
    assert sorted(imported_by("theme", "copy", "-h") & set(HEAVY)) == []


@pytest.mark.parametrize("verb", ORDER)
def test_a_verbs_help_imports_nothing_heavy(verb: str) -> None:
    heavy = sorted(imported_by(verb, "--help") & set(HEAVY))
    assert heavy == [], (verb, heavy)


@pytest.mark.parametrize(
    "words", [("contacts", "list"), ("contacts", "import"), ("campaigns", "show")]
)
def test_a_sub_verbs_help_imports_nothing_heavy(words: tuple[str, ...]) -> None:
    """A group's callback runs before its sub-verb's help: it must not load its stack early."""
    heavy = sorted(imported_by(*words, "--help") & set(HEAVY))
    assert heavy == [], (words, heavy)


@pytest.mark.parametrize(("columns", "widest"), [("60", 58), ("200", 78), ("", 78)])
def test_help_wraps_at_clicks_width(columns: str, widest: int) -> None:
    """$COLUMNS (else the terminal, else 80) less 2, at most 78, as click's own formatter."""
    done = subprocess.run(
        [sys.executable, "-m", "nyhetsbrev", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": columns},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.lstrip().startswith("nyhet")]
    assert max(len(line) for line in lines) <= widest  # click leaves the examples unwrapped
    assert max(len(line) for line in lines) > widest - 12  # it does fill the width


def test_running_a_verb_still_imports_its_stack() -> None:
    """The measurement above can fail: starting a server brings uvicorn in."""
    code = (
        "import nyhetsbrev.web.cli as c, sys; c.server(None, access_log=False); print(sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "'uvicorn'" in done.stdout


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("bulid", "Error: No such command 'bulid'. Did you mean 'build'?"),
        ("chek", "Error: No such command 'chek'. Did you mean 'check'?"),
        ("contact", "Error: No such command 'contact'. Did you mean 'contacts'?"),
        ("campaign", "Error: No such command 'campaign'. Did you mean 'campaigns'?"),
        ("xyzzy", "Error: No such command 'xyzzy'."),
    ],
)
def test_a_mistyped_verb_gets_a_suggestion(cli: Cli, typed: str, message: str) -> None:
    result = cli(typed)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message


def test_the_packaged_theme_is_used_without_a_workspace_copy(workspace: Path) -> None:
    assert sorted(p.name for p in (workspace / "templates").iterdir()) == ["README.md"]
    assert find_theme(Workspace(workspace), "kom").path == packaged_theme_path("kom")


def test_theme_copy_puts_an_editable_copy_that_wins(cli: Cli, workspace: Path) -> None:
    result = cli("theme", "copy")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Copied the kom theme to templates/kom/: change its colours, fonts\n"
        "and logo in brand.yaml, its words in labels.yaml; `nyhetsbrev preview ID`\n"
        "shows each change as you save (see docs/look.md).\n"
    )
    copied = workspace / "templates" / "kom"
    shipped = packaged_theme_path("kom")
    names = sorted(p.name for p in shipped.iterdir() if p.name != "__pycache__")
    assert sorted(p.name for p in copied.iterdir()) == names
    for name in names:
        assert (copied / name).read_bytes() == (shipped / name).read_bytes(), name
    assert find_theme(Workspace(workspace), "kom").path == copied
    assert sorted(p.name for p in (workspace / "templates").iterdir()) == ["README.md", "kom"]


def test_theme_copy_refuses_to_overwrite_without_force(cli: Cli, workspace: Path) -> None:
    assert cli("theme", "copy", "kom").exit_code == 0
    labels = workspace / "templates" / "kom" / "labels.yaml"
    labels.write_text("nb: {}\n", encoding="utf-8")
    result = cli("theme", "copy")
    assert result.exit_code == 1
    assert result.output == (
        "Error: templates/kom already exists (a folder); nothing was copied. Keep your changes, "
        "or replace it with the packaged theme: nyhetsbrev theme copy kom --force\n"
    )
    assert labels.read_text("utf-8") == "nb: {}\n"
    result = cli("theme", "copy", "--force")
    assert result.exit_code == 0, result.output
    assert labels.read_bytes() == (packaged_theme_path("kom") / "labels.yaml").read_bytes()
    assert sorted(p.name for p in (workspace / "templates").iterdir()) == ["README.md", "kom"]


def test_the_old_link_checked_out_as_a_file(cli: Cli, workspace: Path) -> None:
    """On Windows without symlinks, templates/kom was a 28-byte text file holding the target."""
    stale = workspace / "templates" / "kom"
    stale.write_text("../src/nyhetsbrev/themes/kom", encoding="utf-8")
    assert find_theme(Workspace(workspace), "kom").path == packaged_theme_path("kom")
    result = cli("theme", "copy")
    assert result.exit_code == 1
    assert "templates/kom already exists (not a folder); nothing was copied." in result.output
    assert cli("theme", "copy", "--force").exit_code == 0
    assert (stale / "labels.yaml").is_file()


def test_theme_copy_names_the_shipped_themes(cli: Cli, workspace: Path) -> None:
    result = cli("theme", "copy", "blå")
    assert result.exit_code == 1
    assert result.output == 'Error: no shipped theme is called "blå": the shipped themes are kom\n'
    assert sorted(p.name for p in (workspace / "templates").iterdir()) == ["README.md"]


def test_theme_copy_makes_templates_when_missing(cli: Cli, workspace: Path) -> None:
    (workspace / "templates" / "README.md").unlink()
    (workspace / "templates").rmdir()
    assert cli("theme", "copy").exit_code == 0
    assert (workspace / "templates" / "kom" / "email.mjml.j2").is_file()


def test_theme_copy_needs_a_workspace(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    result = cli("theme", "copy")
    assert result.exit_code == 1
    assert "is not inside a nyhetsbrev workspace" in result.output
    assert list(tmp_path.iterdir()) == []


def _preview(workspace: Path, *flags: str) -> str:
    """Run a real preview, fetch its page, stop it with Ctrl-C; its whole terminal output."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nyhetsbrev",
            "preview",
            "2024-q4",
            "--no-open",
            "--port",
            str(port),
            *flags,
        ],
        cwd=workspace,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    return output


def test_preview_keeps_the_servers_lines_to_itself(workspace: Path) -> None:
    quiet = _preview(workspace)
    assert "Previewing 2024-q4 at http://127.0.0.1:" in quiet
    assert "INFO:" not in quiet and "GET / HTTP/1.1" not in quiet, quiet
    loud = _preview(workspace, "--verbose")
    assert "INFO:     Application startup complete." in loud, loud
    assert '"GET / HTTP/1.1" 200' in loud, loud
