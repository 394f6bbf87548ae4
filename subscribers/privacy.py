"""Privacy requests about one person: everything held about them, and erasure.

Erasure keeps the subscriber row (the send ledger points at it) but removes what identifies
the person: the address becomes ``erased-<id>@invalid``, the name, attributes, tags, lists,
time zone and locale are cleared, and the status becomes unsubscribed. The SHA-256 of the
address goes into the suppression list (reason ``erased``), so that a later import or
sign-up of the same address stays suppressed. The sign-up and confirmation times stay as the
record of consent. The ledger's copy of the address belongs to ``digest``, which scrubs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.errors import AudienceError
from subscribers.exporter import STORED_FIELDS, record
from subscribers.importer.addresses import email_hash, erased_placeholder, is_erased
from subscribers.importer.addresses import normalise_email as _normalise
from subscribers.models import Status, Subscriber, Suppression

ERASED = "erased"


class UnknownSubscriberError(AudienceError):
    """No subscriber has the address given (or it was erased)."""


def lookup_key(address: str) -> str:
    """The stored form of an address typed by a person (lower case, validated when it can be)."""
    try:
        return _normalise(address)
    except ValueError:
        return address.strip().lower()


def find(session: Session, address: str) -> Subscriber:
    key = lookup_key(address)
    found = None
    if not is_erased(key):
        found = session.scalars(select(Subscriber).where(Subscriber.email == key)).one_or_none()
    if found is None:
        raise UnknownSubscriberError(
            f"{address.strip()}: no subscriber has this address; check the spelling "
            "(an erased address is not kept)"
        )
    return found


def personal_data(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """All the audience package holds about one subscriber, as JSON-ready values."""
    values = {name: getattr(subscriber, name) for name in STORED_FIELDS}
    data: dict[str, Any] = {"id": subscriber.id, **record(values, sorted(subscriber.list_names))}
    suppression = session.get(Suppression, email_hash(subscriber.email))
    data["suppressed"] = (
        None
        if suppression is None
        else {"reason": suppression.reason, "since": suppression.created_at.isoformat()}
    )
    return data


def erase(session: Session, subscriber: Subscriber, now: datetime) -> str:
    """Remove the personal data, suppress the address's hash; return the placeholder address."""
    digest = email_hash(subscriber.email)
    suppression = session.get(Suppression, digest)
    if suppression is None:
        session.add(Suppression(email_hash=digest, reason=ERASED, created_at=now))
    else:
        suppression.reason = ERASED
    placeholder = erased_placeholder(subscriber.id)
    subscriber.email = placeholder
    subscriber.name = ""
    subscriber.status = Status.unsubscribed
    subscriber.timezone = "UTC"
    subscriber.locale = ""
    subscriber.followed_tags = []
    subscriber.attributes = {}
    subscriber.lists = []
    session.flush()
    return placeholder
