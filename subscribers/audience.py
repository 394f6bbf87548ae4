"""Who receives a segment: list membership and attribute rules over active subscribers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.models import Membership, Status, Subscriber

FIELDS = ("timezone", "locale", "name")


def matches(subscriber: Subscriber, where: Mapping[str, str]) -> bool:
    """True when every ``where`` key equals the subscriber's field or custom attribute."""
    for key, wanted in where.items():
        value = getattr(subscriber, key) if key in FIELDS else subscriber.attributes.get(key)
        if str(value) != wanted:
            return False
    return True


def audience(session: Session, lists: Sequence[str], where: Mapping[str, str]) -> list[Subscriber]:
    """Active subscribers on any of ``lists`` (all when empty) who match ``where``."""
    query = select(Subscriber).where(Subscriber.status == Status.active).order_by(Subscriber.id)
    if lists:
        members = select(Membership.subscriber_id).where(Membership.list_name.in_(list(lists)))
        query = query.where(Subscriber.id.in_(members))
    return [s for s in session.scalars(query) if matches(s, where)]
