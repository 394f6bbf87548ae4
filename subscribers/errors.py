"""Errors of the audience package, each one line naming the item and the fix."""

from __future__ import annotations


class AudienceError(Exception):
    """Root of the audience package's errors."""


class ImportRowError(AudienceError):
    """One row of a subscriber import is unusable."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class ImportFileError(AudienceError):
    """The import file as a whole cannot be read.

    ``str()`` is the line for ``digest subscribers import``, whose remedies may name its
    options (``--map``, ``--format``); ``plain`` says the same without them, for a file
    that a setting names.
    """

    def __init__(self, plain: str, with_options: str = "") -> None:
        super().__init__(with_options or plain)
        self.plain = plain


class BadTokenError(AudienceError):
    """A token that was forged, altered or expired."""
