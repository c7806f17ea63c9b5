"""Shared fixtures: a throw-away workspace, the CLI runner, databases, and real system tools."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "NYHETSBREV_TEST_POSTGRES_URL"
# Debian's chromium, headless, as root, on a machine with no network but loopback: without the
# background-networking flags it keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files under tests/golden/ from the current output.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def require_tool(path_or_name: str) -> str:
    """The path of a system tool the test needs. Missing: skip locally, fail in CI."""
    found = shutil.which(path_or_name) or (path_or_name if Path(path_or_name).exists() else None)
    if found:
        return found
    message = f"{path_or_name} is not installed (.ci/run installs it with apt-get)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def chromium_path() -> str:
    return require_tool(os.environ.get("NYHETSBREV_CHROMIUM", "chromium"))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of this repository's workspace (newsletters/, templates/) in a temp folder, as cwd."""
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("newsletters", "templates"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name)
    (root / "contacts").mkdir()
    (root / "build").mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    monkeypatch.delenv("NYHETSBREV_DATABASE_URL", raising=False)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2024-12-20")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    return root


@pytest.fixture
def cli() -> CliCaller:
    return CliCaller()


class CliCaller:
    """`cli("check", "2024-q4")` runs the real command in-process and returns the click Result."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        from nyhetsbrev.cli import main

        return self.runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def _postgres_url_for_test() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set (.ci/run starts PostgreSQL and sets it)")
        pytest.skip(f"{POSTGRES_ENV} not set: no PostgreSQL server to test against")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses this runs twice: on a fresh SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'contacts.sqlite').as_posix()}"
    else:
        yield from _postgres_url_for_test()
