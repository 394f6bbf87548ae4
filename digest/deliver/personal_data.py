"""A person's rows in the send ledger: listed for an access request, scrubbed for an
erasure (the address in their rows and in any error text that quotes it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digest.store.models import Batch, Delivery, Edition


def editions_sent_to(session: Session, subscriber_id: int) -> list[dict[str, Any]]:
    """The editions recorded for one subscriber in the send ledger, oldest first."""
    query = (
        select(Edition.id, Edition.segment, Edition.subject, Delivery.status, Delivery.sent_at)
        .join(Edition, Edition.id == Delivery.edition_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Edition.created_at, Edition.id)
    )
    return [
        {
            "edition": edition_id,
            "segment": segment,
            "subject": subject,
            "status": status.value,
            "sent_at": sent_at.isoformat() if sent_at else None,
        }
        for edition_id, segment, subject, status, sent_at in session.execute(query)
    ]


def scrub_address(session: Session, subscriber_id: int, address: str, placeholder: str) -> int:
    """Replace the address in the ledger rows and in any error text that quotes it; returns
    the rows scrubbed."""
    connection = session.connection()
    rows = connection.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber_id)
        .values(email=placeholder, error=func.replace(Delivery.error, address, placeholder))
    ).rowcount
    connection.execute(
        update(Batch)
        .where(Batch.last_error.contains(address, autoescape=True))
        .values(last_error=func.replace(Batch.last_error, address, placeholder))
    )
    return rows
