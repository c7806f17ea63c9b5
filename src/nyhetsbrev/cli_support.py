"""What every command shares: the application context (workspace, debug) and output helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # found on first use: `nyhetsbrev --help` imports no pathlib
    from nyhetsbrev.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """Options of the top-level group, handed to every command."""

    root: str | None = None
    debug: bool = False
    publication: str | None = None
    _workspace: Workspace | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Workspace:
        """The workspace, found on first use (so `--help` and `init` work anywhere)."""
        from nyhetsbrev.workspace import Workspace

        if self._workspace is None:
            self._workspace = Workspace.find(self.root, self.publication)
        return self._workspace

    @property
    def workspaces(self) -> list[Workspace]:
        """The named publication's workspace, or every publication's when none is named (for
        the verbs that serve them all, like `serve`)."""
        from nyhetsbrev.workspace import PUBLICATION_ENV, Workspace

        if self.publication or os.environ.get(PUBLICATION_ENV):
            return [self.workspace]
        return Workspace.find_root(self.root).each()


def pass_app(func: F) -> F:
    """Decorator: pass the `AppContext` as the first argument."""
    return click.make_pass_decorator(AppContext, ensure=True)(func)  # type: ignore[return-value]


def debug_requested() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, AppContext):
            return ctx.obj.debug
        ctx = ctx.parent
    return os.environ.get("NYHETSBREV_DEBUG", "") not in ("", "0")


def human_size(size: int) -> str:
    """1536 → '1.5 KB' (powers of 1024, as mail clients count)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
