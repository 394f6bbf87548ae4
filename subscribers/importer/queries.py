"""The lookups of a merge, by a chunk of addresses, ids or hashes, for one SQL dialect.

A chunk's values travel as one parameter: ``= ANY(array)`` on PostgreSQL, an expanding
``IN`` elsewhere. An ``IN`` of 10,000 placeholders is text that psycopg parses again for
every query, a fifth of a second each. Status and JSON are read raw and decoded by the
caller: SQLAlchemy's result processors cost twice the query itself on a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    type_coerce,
)

from subscribers.models import Membership, Subscriber, Suppression

SUBSCRIBERS = cast(Table, Subscriber.__table__)
LISTS = cast(Table, Membership.__table__)
SUPPRESSIONS = cast(Table, Suppression.__table__)
SEPARATOR = "\x1f"  # between aggregated list names, which never hold control characters


@dataclass(frozen=True)
class Queries:
    # :emails -> id, email, status, name, timezone, locale, tags, attributes, reader chose
    known: Select[Any]
    ids: Select[Any]  # :emails -> id, email
    lists: Select[Any]  # :ids -> subscriber id, list names joined by SEPARATOR
    suppressed: Select[Any]  # :hashes -> the hashes on the suppression list


@lru_cache(maxsize=8)
def queries(dialect: str) -> Queries:
    def among(column: Any, name: str) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return cast(
                ColumnElement[bool], column == any_(bindparam(name, type_=ARRAY(column.type)))
            )
        return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))

    s = SUBSCRIBERS.c
    return Queries(
        known=select(
            s.id,
            s.email,
            type_coerce(s.status, String),
            s.name,
            s.timezone,
            s.locale,
            type_coerce(s.followed_tags, Text),
            type_coerce(s.attributes, Text),
            s.preferences_saved_at.is_not(None),
        ).where(among(s.email, "emails")),
        ids=select(s.id, s.email).where(among(s.email, "emails")),
        lists=select(LISTS.c.subscriber_id, func.aggregate_strings(LISTS.c.list_name, SEPARATOR))
        .where(among(LISTS.c.subscriber_id, "ids"))
        .group_by(LISTS.c.subscriber_id),
        suppressed=select(SUPPRESSIONS.c.email_hash).where(
            among(SUPPRESSIONS.c.email_hash, "hashes")
        ),
    )
