"""Who receives a segment: list membership and attribute rules over active subscribers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session

from subscribers.models import Membership, Status, Subscriber

FIELDS = ("timezone", "locale", "name")


def _rule(key: str, wanted: str) -> ColumnElement[bool]:
    if key in FIELDS:
        column: ColumnElement[str] = getattr(Subscriber, key)
        return column == wanted
    value: ColumnElement[str] = Subscriber.attributes[key].as_string()
    return value == wanted


def conditions(lists: Sequence[str], where: Mapping[str, str]) -> ColumnElement[bool]:
    """SQL for: active, on any of ``lists`` (all when empty), every ``where`` key equal."""
    parts: list[ColumnElement[bool]] = [Subscriber.status == Status.active]
    if lists:
        members = select(Membership.subscriber_id).where(Membership.list_name.in_(list(lists)))
        parts.append(Subscriber.id.in_(members))
    parts.extend(_rule(key, wanted) for key, wanted in sorted(where.items()))
    return and_(*parts)


def audience_query(lists: Sequence[str], where: Mapping[str, str]) -> Select[Subscriber]:
    return select(Subscriber).where(conditions(lists, where)).order_by(Subscriber.id)


def audience(session: Session, lists: Sequence[str], where: Mapping[str, str]) -> list[Subscriber]:
    """Active subscribers on any of ``lists`` (all when empty) who match ``where``."""
    return list(session.scalars(audience_query(lists, where)))
