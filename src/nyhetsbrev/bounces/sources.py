"""Where bounce messages come from on disk: `.eml` files, folders of them, and mbox files."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from nyhetsbrev.errors import BouncesError

MAX_MESSAGE = 50 * 1024 * 1024  # a bounce quoting a huge original; larger files are refused


def is_mbox(path: Path) -> bool:
    """An mbox file starts with a `From ` line (Thunderbird's folders, `.mbox` exports)."""
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def check_paths(paths: Sequence[Path]) -> None:
    """Every path exists and is readable, before anything is read."""
    problems = []
    for path in paths:
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
        elif not os.access(path, os.R_OK):
            problems.append(f"{path}: not readable (check its permissions)")
    if problems:
        raise BouncesError(
            "\n".join(problems)
            + "\nName .eml files, folders of them, or mbox files (e.g. Thunderbird's Inbox)."
        )


def read_paths(
    paths: Sequence[Path], shown: Callable[[Path], str] = str
) -> Iterator[tuple[str, bytes]]:
    """(origin, raw message) for every message in `paths`, one at a time (memory stays flat)."""
    check_paths(paths)
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and _wanted(child):
                    yield from _read_file(child, shown)
        else:
            yield from _read_file(path, shown)


def _wanted(path: Path) -> bool:
    if path.name.startswith(".") or path.suffix.lower() in (".msf", ".dat", ".json", ".csv"):
        return False
    return path.suffix.lower() in (".eml", ".mbox", ".mbx") or is_mbox(path)


def _read_file(path: Path, shown: Callable[[Path], str]) -> Iterator[tuple[str, bytes]]:
    name = shown(path)
    try:
        if is_mbox(path):
            box = mailbox.mbox(path, create=False)
            try:
                for number, key in enumerate(box.iterkeys(), start=1):
                    yield f"{name}#{number}", box.get_bytes(key)
            finally:
                box.close()
            return
        if path.stat().st_size > MAX_MESSAGE:
            raise BouncesError(f"{name}: larger than 50 MB, so not a bounce message; skipped")
        yield name, path.read_bytes()
    except OSError as exc:
        raise BouncesError(f"{name}: cannot be read: {exc.strerror or exc}") from None
