"""Writing the records package as a BagIt bag (RFC 8493), whole or not at all.

The files go into a temporary folder beside `--out`; `bagit` (the Library of Congress's package)
moves them under `data/` and writes the SHA-256 and SHA-512 manifests and `bag-info.txt`; the
bag is validated, and only then renamed to `--out`. A failure leaves `--out` as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import bagit

from nyhetsbrev.errors import RecordsError
from nyhetsbrev.records.metadata import Metadata

CHECKSUMS = ["sha256", "sha512"]


def check_target(out: Path) -> None:
    """Refuse an `--out` that exists and is not an empty folder."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise RecordsError(f"{out} exists and is not a folder: name a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise RecordsError(
            f"{out} is not empty: the archive copy goes into a new or empty folder, so that "
            "nothing else ends up in the bag — name another folder, or empty this one"
        )


def write_bag(out: Path, files: dict[str, bytes], metadata: Metadata) -> bagit.Bag:
    """Write `files` as a bag at `out` (which must be new or empty)."""
    check_target(out)
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        info = {
            "Source-Organization": metadata.publisher,
            "External-Identifier": metadata.identifier,
            "External-Description": (
                f"{metadata.title}: archive copy of the newsletter issue "
                f"({metadata.status}), made by nyhetsbrev"
            ),
        }
        bag = bagit.make_bag(str(staging), bag_info=info, checksums=CHECKSUMS)
        bag.validate()
        for folder in (staging, staging / "data"):  # made private by mkdtemp; they are read
            os.chmod(folder, 0o755)
        if out.is_dir():
            out.rmdir()  # empty, checked above
        os.rename(staging, out)
    except (OSError, bagit.BagError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RecordsError(
            f"{out}: cannot write the archive copy ({getattr(exc, 'strerror', None) or exc}); "
            "nothing was written there — check the disk and the folder's permissions"
        ) from exc
    return bagit.Bag(str(out))
