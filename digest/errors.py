"""The errors Digest raises: one root, each subclass saying what to check next."""

from __future__ import annotations

import difflib


class DigestError(Exception):
    """Root of every error Digest reports to a person.

    ``str(error)`` is one line that names the item and what to fix.
    """


class ConfigError(DigestError):
    """The configuration file is missing, malformed or inconsistent."""


class UsageError(DigestError):
    """The command line asks for something that is not there: caught before any work is
    done, and the command exits 2 (like a bad option)."""


class ConfigNotFoundError(ConfigError, UsageError):
    """The configuration file named (or implied) by the command line does not exist."""


class UnknownSegmentError(ConfigError, UsageError):
    """A segment name that the configuration does not define."""

    def __init__(self, name: str, known: list[str]) -> None:
        choices = ", ".join(sorted(known)) or "none are configured"
        near = difflib.get_close_matches(name, known, n=1)
        if near:
            told = f"did you mean {near[0]!r}? (choose one of {choices})"
        else:
            told = f"choose one of {choices}"
        super().__init__(f"unknown segment {name!r}: {told}")
        self.name = name


class StoreError(DigestError):
    """The database could not be opened or migrated."""


class RenderError(DigestError):
    """A template failed to render; check the template named in the message."""


class DeliveryError(DigestError):
    """A backend refused or failed to deliver a batch."""

    def __init__(self, message: str, *, permanent: bool = False, doubtful: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.doubtful = doubtful  # an attempt timed out: the provider may have accepted it
