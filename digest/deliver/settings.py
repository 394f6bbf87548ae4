"""What a send needs to know, and nothing more: the backend and its settings, the sender,
and how the ledger's batches are worked through. The run builds it from the config."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from digest.settings import SenderSettings, SendGridSettings, SmtpSettings


@dataclass(frozen=True)
class ListIdentity:
    """Who a segment's emails are from: the From name, and the list's name in List-Id."""

    from_name: str
    list_name: str


@dataclass(frozen=True)
class DeliverySettings:
    backend: str  # outbox, smtp or sendgrid
    sender: SenderSettings  # the From, the postal address and the base of the links
    outbox_dir: Path
    smtp: SmtpSettings  # ca_file already resolved
    sendgrid: SendGridSettings
    batch_size: int  # recipients per batch, at most 1000
    concurrency: int  # batches in flight, across the worker processes
    processes: int  # worker processes for a large edition; 1: this process's threads
    in_doubt: str  # what a batch a crashed sender may have handed over gets: resend or skip
    claim_timeout: float  # seconds after which another worker's claim counts as abandoned
    origin: str = ""  # where these settings were written (the config file), for messages
    lists: tuple[tuple[str, ListIdentity], ...] = ()  # segment name → its identity
    send: str = "self"  # who sends a recorded edition: self, or workers (`digest worker`)

    def identity(self, segment: str) -> ListIdentity:
        """``segment``'s From name and list name; for a segment no longer configured (an
        edition resumed after the config changed), the sender's name and the segment's."""
        found = dict(self.lists).get(segment)
        fallback = ListIdentity(self.sender.name, segment.replace("-", " ").title())
        return found or fallback

    def using(self, backend: str) -> DeliverySettings:
        """The same settings with another backend ("" keeps this one)."""
        return replace(self, backend=backend) if backend else self
