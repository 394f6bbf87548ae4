"""Who receives a segment: a :class:`Rule` over subscribers, turned into SQL.

The SQL runs unchanged on SQLite and PostgreSQL. A rule may name statuses other
than ``active`` so that an operator can count, say, the bounced part of a segment
(:func:`matching`, :func:`sizes`); :func:`conditions`, which sending uses, always
adds ``status = active`` on top, so no rule can make Digest mail anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    FunctionElement,
    Select,
    and_,
    case,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from subscribers.importer.rows import FREQUENCY_KEY
from subscribers.models import Membership, Status, Subscriber

FIELDS = ("timezone", "locale", "name")
ACTIVE = (Status.active.value,)


@dataclass(frozen=True)
class Rule:
    """A segment's audience; every part that is set must hold (empty parts are ignored).

    ``""`` among ``frequencies`` or an ``attributes_in`` key's values also matches
    subscribers who have no value there. ``signed_up_after`` is inclusive,
    ``signed_up_before`` exclusive, so that two adjacent ranges never share anyone.
    """

    lists: tuple[str, ...] = ()
    where: Mapping[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ACTIVE
    follows_any: tuple[str, ...] = ()
    follows_all: tuple[str, ...] = ()
    follows_none: tuple[str, ...] = ()
    frequencies: tuple[str, ...] = ()
    attributes_in: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    attributes_exist: tuple[str, ...] = ()
    signed_up_after: datetime | None = None
    signed_up_before: datetime | None = None

    def describe(self) -> str:
        """The rule on one line, in the config's own key names, for people."""
        parts = [f"status {'|'.join(self.statuses)}"]
        if self.lists:
            parts.append(f"lists {'|'.join(self.lists)}")
        parts += [f"{key}={value}" for key, value in sorted(self.where.items())]
        for name, tags in (
            ("follows any", self.follows_any),
            ("follows all", self.follows_all),
            ("follows none", self.follows_none),
        ):
            if tags:
                parts.append(f"{name} {'|'.join(tags)}")
        if self.frequencies:
            parts.append(f"frequency {'|'.join(_shown(v) for v in self.frequencies)}")
        for key, values in sorted(self.attributes_in.items()):
            parts.append(f"{key} in {'|'.join(_shown(v) for v in values)}")
        parts += [f"has {key}" for key in self.attributes_exist]
        if self.signed_up_after:
            parts.append(f"signed up from {self.signed_up_after.isoformat()}")
        if self.signed_up_before:
            parts.append(f"signed up before {self.signed_up_before.isoformat()}")
        return ", ".join(parts)


def _shown(value: str) -> str:
    return value or "(unset)"


class json_elements(FunctionElement[Any]):
    """The elements of a JSON array column as text rows, whichever database runs it."""

    inherit_cache = True
    name = "json_elements"


@compiles(json_elements, "sqlite")
def _sqlite_elements(element: json_elements, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_each({compiler.process(element.clauses, **kw)})"


@compiles(json_elements, "postgresql")
def _postgres_elements(element: json_elements, compiler: SQLCompiler, **kw: Any) -> str:
    # A JSON null or scalar would make json_array_elements_text fail the whole query.
    column = compiler.process(element.clauses, **kw)
    return (
        f"json_array_elements_text(CASE WHEN json_typeof({column}) = 'array' "
        f"THEN {column} ELSE '[]'::json END)"
    )


def _follows(tag: str) -> Exists:
    elements = json_elements(Subscriber.followed_tags).table_valued("value")
    return select(elements.c.value).where(elements.c.value == tag).exists()


def _value(key: str) -> ColumnElement[str]:
    if key in FIELDS:
        column: ColumnElement[str] = getattr(Subscriber, key)
        return column
    text: ColumnElement[str] = Subscriber.attributes[key].as_string()
    return text


def _one_of(key: str, allowed: Sequence[str]) -> ColumnElement[bool]:
    value = _value(key)
    named = [v for v in allowed if v]
    either: list[ColumnElement[bool]] = [value.in_(named)] if named else []
    if "" in allowed:
        either += [value.is_(None), value == ""]
    return or_(*either)


def _present(key: str) -> ColumnElement[bool]:
    value = _value(key)
    return and_(value.is_not(None), value != "")


def matching(rule: Rule) -> ColumnElement[bool]:
    """SQL for every subscriber ``rule`` matches, in any of the statuses it names."""
    parts: list[ColumnElement[bool]] = [
        Subscriber.status.in_([Status(name) for name in rule.statuses])
    ]
    if rule.lists:
        members = select(Membership.subscriber_id).where(Membership.list_name.in_(rule.lists))
        parts.append(Subscriber.id.in_(members))
    parts += [_value(key) == wanted for key, wanted in sorted(rule.where.items())]
    if rule.follows_any:
        parts.append(or_(*(_follows(tag) for tag in rule.follows_any)))
    parts += [_follows(tag) for tag in rule.follows_all]
    parts += [not_(_follows(tag)) for tag in rule.follows_none]
    if rule.frequencies:
        parts.append(_one_of(FREQUENCY_KEY, rule.frequencies))
    parts += [_one_of(key, values) for key, values in sorted(rule.attributes_in.items())]
    parts += [_present(key) for key in rule.attributes_exist]
    if rule.signed_up_after is not None:
        parts.append(Subscriber.signed_up_at >= rule.signed_up_after)
    if rule.signed_up_before is not None:
        parts.append(Subscriber.signed_up_at < rule.signed_up_before)
    return and_(*parts)


def conditions(rule: Rule) -> ColumnElement[bool]:
    """SQL for the people a send reaches: the active subscribers ``rule`` matches."""
    return and_(matching(rule), Subscriber.status == Status.active)


def audience_query(rule: Rule) -> Select[Subscriber]:
    return select(Subscriber).where(conditions(rule)).order_by(Subscriber.id)


def audience(session: Session, rule: Rule) -> list[Subscriber]:
    """The active subscribers ``rule`` matches: the people a send would reach."""
    return list(session.scalars(audience_query(rule)))


def sizes(session: Session, rule: Rule) -> tuple[int, int]:
    """How many subscribers ``rule`` matches, and how many of those are active (sendable)."""
    active = case((Subscriber.status == Status.active, 1), else_=0)
    matched, sendable = session.execute(
        select(func.count(Subscriber.id), func.coalesce(func.sum(active), 0)).where(matching(rule))
    ).one()
    return int(matched), int(sendable)
