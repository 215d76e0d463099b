"""Errors a user can fix. Each one carries where it happened, so the CLI prints one clear line."""

from __future__ import annotations


class LogscopeError(Exception):
    """Base class: the CLI turns these into `error: <message>` and exit code 2."""


class RulePackError(LogscopeError):
    """A rule file is invalid. Holds every problem found, not just the first."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


class InputError(LogscopeError):
    """A path could not be read at all (missing, empty folder, unknown format)."""
