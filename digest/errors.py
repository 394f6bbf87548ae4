"""The errors Digest raises: one root, each subclass saying what to check next."""

from __future__ import annotations


class DigestError(Exception):
    """Root of every error Digest reports to a person.

    ``str(error)`` is one line that names the item and what to fix.
    """


class ConfigError(DigestError):
    """The configuration file is missing, malformed or inconsistent."""


class UnknownSegmentError(ConfigError):
    """A segment name that the configuration does not define."""

    def __init__(self, name: str, known: list[str]) -> None:
        choices = ", ".join(sorted(known)) or "none are configured"
        super().__init__(f"unknown segment {name!r}: choose one of {choices}")
        self.name = name


class SourceError(DigestError):
    """A source could not be fetched or parsed; the others go on."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


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
