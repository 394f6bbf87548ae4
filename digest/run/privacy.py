"""Privacy requests about one person: all the data held about them, or its erasure, in the
audience and in the send ledger alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest.deliver.personal_data import editions_sent_to, scrub_address
from digest.store.database import Store
from subscribers import privacy


def personal_data(store: Store, email: str) -> dict[str, Any]:
    """Every field, list, tag, attribute and suppression of the person, and the editions
    sent to them."""
    with store.session() as session:
        subscriber = privacy.find(session, email)
        data = privacy.personal_data(session, subscriber)
        data["deliveries"] = editions_sent_to(session, subscriber.id)
    return data


@dataclass(frozen=True)
class Erased:
    address: str
    subscriber_id: int
    placeholder: str  # the address kept in its place: unique, never mailable
    ledger_rows: int  # ledger rows scrubbed


def erase_person(store: Store, email: str, now: datetime) -> Erased:
    """Remove the person's data and scrub their ledger rows; their address's hash stays on
    the suppression list."""
    with store.session() as session:
        subscriber = privacy.find(session, email)
        address, subscriber_id = subscriber.email, subscriber.id
        placeholder = privacy.erase(session, subscriber, now)
        scrubbed = scrub_address(session, subscriber_id, address, placeholder)
    return Erased(address, subscriber_id, placeholder, scrubbed)
