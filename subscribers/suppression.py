"""Suppression: an address that unsubscribed, bounced or complained is never mailed again.

Suppressing sets the subscriber's status and records the SHA-256 of the address in
the suppression list, in the same transaction, so the address stays out even after
its personal data is erased. A worse reason wins over a milder one (a complaint after
an unsubscribe is a complaint), and suppressing twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.importer import email_hash
from subscribers.models import SUPPRESSED, Status, Subscriber, Suppression

SEVERITY = {Status.unsubscribed: 1, Status.bounced: 2, Status.complained: 3}


def is_suppressed(session: Session, address: str) -> bool:
    """True when ``address`` is on the suppression list (whatever its subscriber row says)."""
    return session.get(Suppression, email_hash(address)) is not None


def _record(session: Session, address: str, reason: str, now: datetime) -> None:
    key = email_hash(address)
    if session.get(Suppression, key) is None:
        session.add(Suppression(email_hash=key, reason=reason, created_at=now))
        session.flush()


def suppress(session: Session, subscriber: Subscriber, status: Status, now: datetime) -> None:
    """Give ``subscriber`` the suppressed ``status`` (unless a worse one holds) and list it."""
    if status not in SUPPRESSED:
        raise ValueError(f"{status.value} is not a suppressed status")
    current = SEVERITY.get(subscriber.status, 0)
    if SEVERITY[status] > current:
        subscriber.status = status
    _record(session, subscriber.email, subscriber.status.value, now)


def suppress_address(
    session: Session, address: str, status: Status, now: datetime
) -> Subscriber | None:
    """Suppress an address from outside (a provider event); known or not, it is listed."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address.lower()))
    if subscriber is None:
        _record(session, address, status.value, now)
        return None
    suppress(session, subscriber, status, now)
    return subscriber


def leave(
    session: Session, subscriber: Subscriber, lists: Collection[str] | None, now: datetime
) -> bool:
    """Take ``subscriber`` off ``lists``; True when they are now unsubscribed from everything.

    ``None`` (or an empty collection: a segment that goes to everyone) means everything.
    Leaving the last list one was on is unsubscribing from everything. Unsubscribing from
    everything keeps the memberships (``digest subscribers export-one`` shows them); the
    status alone stops every send.
    """
    if lists:
        subscriber.lists = [m for m in subscriber.lists if m.list_name not in lists]
        if subscriber.lists:
            session.flush()
            return False
    suppress(session, subscriber, Status.unsubscribed, now)
    session.flush()
    return True
