"""The one interface every delivery backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from digest.deliver.message import Outgoing, Recipient


def unbuildable(error: Exception) -> str:
    """Why a recipient failed whose message could not be built (or written out): that
    recipient fails alone, and the rest of the batch goes on."""
    return f"cannot build the message for this address: {type(error).__name__}: {error}"


@dataclass
class BatchOutcome:
    """What happened to one batch: provider ids of the accepted, reasons for the refused.

    A recipient in neither map was not attempted and stays pending in the ledger.
    """

    accepted: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    doubtful: bool = False  # a timed-out attempt came first: the provider may have it twice


class Backend(Protocol):
    name: str
    idempotent: bool  # a repeated batch cannot reach anyone twice (the outbox)

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        """Deliver batch number ``batch`` (at most 1000 recipients) of the ledger.

        Raise DeliveryError when none of it went.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
