"""`nyhetsbrev build`: what it writes and prints, determinism, and all-or-nothing writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO, CliCaller
from tests.render.conftest import tree

from nyhetsbrev.errors import RenderError
from nyhetsbrev.render import editions as editions_module


def test_build_writes_the_editions_and_prints_paths_and_sizes(
    workspace: Path, cli: CliCaller
) -> None:
    result = cli("build", "2024-q4")
    assert result.exit_code == 0, result.output
    folder = workspace / "build" / "2024-q4"
    written = set(tree(folder))
    assert {"email.html", "email.txt", "index.html", "meta.json"} <= written
    assert not {"email.mjml"} & written  # only with --keep-intermediate
    lines = result.stdout.splitlines()
    size = (folder / "email.html").stat().st_size
    assert lines[0].startswith("build/2024-q4/email.html")
    assert f"{size / 1024:.1f} KB" in lines[0]
    assert f"{round(100 * size / (102 * 1024))} % of Gmail's 102 KB clip limit" in lines[0]
    assert any(line.startswith("build/2024-q4/email.txt ") for line in lines)
    assert any(line.startswith("build/index.html ") for line in lines)
    # the reference issue's "#" links are worth a warning; the build goes on
    assert "warnings: the build goes on (--strict stops on them)" in result.stderr
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    pdfs = sorted(name for name in written if name.endswith(".pdf"))
    assert meta == {
        "id": "2024-q4",
        "title": "Nyhetsbrev fra KOM",
        "period_label": "oktober–desember 2024",
        "language": "nb",
        "pdf": pdfs[0] if pdfs else None,
        "summary": "Strategi mot menneskehandel på vei, KOMs oppdaterte veileder, "
        "høringer, nye rapporter og kurs i 2025",
    }
    assert 'href="2024-q4/index.html"' in (workspace / "build" / "index.html").read_text()


def test_images_are_copied_and_the_archive_lists_every_built_issue(
    small_workspace: Path, cli: CliCaller
) -> None:
    (small_workspace / "build" / "2024-q4").mkdir()
    (small_workspace / "build" / "2024-q4" / "meta.json").write_text(
        '{"id": "2024-q4", "title": "Nyhetsbrev fra KOM", "period_label": "oktober–desember '
        '2024", "language": "nb", "pdf": null}',
        encoding="utf-8",
    )
    result = cli("build", "2025-q1")
    assert result.exit_code == 0, result.output
    folder = small_workspace / "build" / "2025-q1"
    source = small_workspace / "newsletters" / "2025-q1" / "veileder.png"
    assert (folder / "veileder.png").read_bytes() == source.read_bytes()
    archive = (small_workspace / "build" / "index.html").read_text(encoding="utf-8")
    assert archive.index('href="2025-q1/index.html"') < archive.index('href="2024-q4/index.html"')


def test_keep_intermediate_also_writes_the_mjml(small_workspace: Path, cli: CliCaller) -> None:
    result = cli("build", "2025-q1", "--keep-intermediate")
    assert result.exit_code == 0, result.output
    mjml = (small_workspace / "build" / "2025-q1" / "email.mjml").read_text(encoding="utf-8")
    assert mjml.startswith('<mjml lang="nb">')
    assert "build/2025-q1/email.mjml" in result.stdout


def test_an_issue_with_an_error_stops_with_the_located_error_and_writes_nothing(
    small_workspace: Path, cli: CliCaller
) -> None:
    issue = small_workspace / "newsletters" / "2025-q1" / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("  - title: Aktuelle", "  - tittel: Aktuelle"),
        encoding="utf-8",
    )
    result = cli("build", "2025-q1")
    assert result.exit_code == 1
    assert "newsletters/2025-q1/issue.yaml:35:5: error: sections[1].tittel: unknown field" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert list((small_workspace / "build").iterdir()) == []


def test_strict_stops_on_warnings_before_writing(small_workspace: Path, cli: CliCaller) -> None:
    issue = small_workspace / "newsletters" / "2025-q1" / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    issue.write_text(text.replace("Les [veilederen på politiet.no]", "Les [her]"), "utf-8")
    assert cli("build", "2025-q1").exit_code == 0
    before = tree(small_workspace / "build")
    result = cli("build", "2025-q1", "--strict")
    assert result.exit_code == 1
    assert "warning" in result.output and "--strict stops on warnings too" in result.output
    assert tree(small_workspace / "build") == before


def test_strict_makes_the_clip_limit_an_error(
    small_workspace: Path, cli: CliCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nyhetsbrev.render import email

    monkeypatch.setattr(email, "GMAIL_CLIP_BYTES", 4 * 1024)
    result = cli("build", "2025-q1")
    assert result.exit_code == 0
    assert "over Gmail's clip limit of 4.0 KB" in result.stderr
    assert "Biggest sections: " in result.stderr
    result = cli("build", "2025-q1", "--strict")
    assert result.exit_code == 1 and "--strict stops here (nothing was written)" in result.output


def test_a_failing_renderer_leaves_the_previous_build_as_it_was(
    small_workspace: Path, cli: CliCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("build", "2025-q1").exit_code == 0
    before = tree(small_workspace / "build")

    def broken(*args: object, **kwargs: object) -> str:
        raise RenderError("the web edition failed (a test)")

    monkeypatch.setattr(editions_module, "render_web", broken)
    result = cli("build", "2025-q1")
    assert result.exit_code == 1 and "the web edition failed (a test)" in result.output
    assert tree(small_workspace / "build") == before


def test_a_failing_write_leaves_the_previous_build_as_it_was(
    small_workspace: Path, cli: CliCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("build", "2025-q1").exit_code == 0
    before = tree(small_workspace / "build")
    real_write = Path.write_bytes
    calls = []

    def failing_write(self: Path, data: bytes) -> int:
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    result = cli("build", "2025-q1")
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "is unchanged" in result.output
    assert tree(small_workspace / "build") == before


#: Run the CLI with the Python clock moved by `shift` days: time.time, datetime.now/today and
#: date.today all answer a later day. (No libfaketime here; Typst gets its timestamp from us.)
SHIFTED_CLOCK = """
import datetime, runpy, sys, time
shift = int(sys.argv.pop(1)) * 86400
real_time, real_datetime, real_date = time.time, datetime.datetime, datetime.date
class FakeDatetime(real_datetime):
    @classmethod
    def now(cls, tz=None):
        return real_datetime.fromtimestamp(time.time(), tz)
    @classmethod
    def today(cls):
        return real_datetime.fromtimestamp(time.time())
class FakeDate(real_date):
    @classmethod
    def today(cls):
        return real_date.fromtimestamp(time.time())
time.time = lambda: real_time() + shift
datetime.datetime, datetime.date = FakeDatetime, FakeDate
runpy.run_module("nyhetsbrev", run_name="__main__")
"""


def _build_in_process_of_its_own(
    workspace: Path, *, seed: str, clock_days: int = 0, epoch: str | None = None
) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO / "src")}
    env.pop("SOURCE_DATE_EPOCH", None)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    subprocess.run(
        [sys.executable, "-c", SHIFTED_CLOCK, str(clock_days), "build", "2025-q1"],
        cwd=workspace,
        env=env,
        check=True,
        capture_output=True,
    )
    return tree(workspace / "build")


def test_two_builds_are_byte_identical_across_processes_and_clocks(small_workspace: Path) -> None:
    """Different hash seeds, and a clock 400 days (another year and quarter) later: no set
    order and no date leaks into the output."""
    first = _build_in_process_of_its_own(small_workspace, seed="1")
    later = _build_in_process_of_its_own(small_workspace, seed="2", clock_days=400)
    assert "2025-q1/email.html" in first
    assert first.keys() == later.keys()
    for name in first:
        assert first[name] == later[name], f"{name} differs when built on another day"


def test_the_comparison_sees_a_date_when_there_is_one(small_workspace: Path) -> None:
    """SOURCE_DATE_EPOCH dates the PDF (and only the PDF): the byte comparison above notices."""
    undated = _build_in_process_of_its_own(small_workspace, seed="1")
    dated = _build_in_process_of_its_own(small_workspace, seed="1", epoch="1700000000")
    differing = sorted(name for name in undated if undated[name] != dated[name])
    assert differing and all(name.endswith(".pdf") for name in differing), differing
