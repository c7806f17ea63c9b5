"""One exception root and one subclass per stage: the user sees `Error: …`, never a traceback."""

from __future__ import annotations

import click


class NyhetsbrevError(click.ClickException):
    """Root of every error nyhetsbrev reports to a person (exit code 1)."""

    exit_code = 1


class WorkspaceError(NyhetsbrevError):
    """The workspace (newsletters/, templates/, contacts/, build/) is missing or incomplete."""


class IssueError(NyhetsbrevError):
    """An issue or publication file cannot be loaded or fails validation."""


class RenderError(NyhetsbrevError):
    """An edition (email, text, web, PDF) cannot be rendered or fails its output checks."""


class ContactsError(NyhetsbrevError):
    """The contact list cannot be read, changed, imported or exported as asked."""


class DeliveryError(NyhetsbrevError):
    """A campaign cannot be prepared, sent or resumed."""


class WebError(NyhetsbrevError):
    """The preview or public web app cannot start or serve."""


class ApprovalError(NyhetsbrevError):
    """A build cannot be approved, or a send lacks a valid approval of its exact build."""


class RecordsError(NyhetsbrevError):
    """The archive copy (records package) of an issue cannot be made as asked."""


class BouncesError(NyhetsbrevError):
    """Bounce messages cannot be read, fetched or recorded."""
