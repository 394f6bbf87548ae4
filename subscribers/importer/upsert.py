"""Merge one chunk of validated rows into the store with a handful of Core statements.

Per chunk: one SELECT of the known addresses, one of their lists, one of the suppression
hashes of the new ones, then a driver-level executemany INSERT (and a SELECT of the new ids),
an executemany UPDATE of the changed rows, and the list memberships added or dropped. Never
the ORM per row. A row may stop mail (a suppressed status, whose hash is then listed as
``subscribers.suppression`` does) but never start it again. A row's lists are added to a
known reader's; only ``replace_lists`` drops the lists a row does not name.

Merges are serialised (:func:`hold_merge_lock`): two processes merging the same new
addresses at once would otherwise both insert them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, false, func, select, update

from subscribers.importer.addresses import email_hash
from subscribers.importer.bulk import insert_many
from subscribers.importer.queries import LISTS, SEPARATOR, SUBSCRIBERS, SUPPRESSIONS, queries
from subscribers.importer.rows import FREQUENCY_KEY, SubscriberRow
from subscribers.models import SUPPRESSED, Status

_MUTABLE = ("name", "timezone", "locale", "followed_tags", "attributes")
_STATUSES = {s.value: s for s in Status}


class Outcome(enum.IntEnum):
    added = 0
    updated = 1
    unchanged = 2
    kept_suppressed = 3


# What a reader chooses on the preferences page; once they have, the file keeps out of it.
CHOSEN_BY_READER = frozenset({"followed_tags", "frequency", "lists"})
MERGE_LOCK = 0x6469676573740001  # PostgreSQL advisory lock key of subscriber merges


class Merged(NamedTuple):
    outcomes: dict[str, Outcome]  # by address
    lists_removed: int  # memberships dropped (only ever with replace_lists)


def hold_merge_lock(connection: Connection) -> None:
    """Wait for any other merge to end, and hold off the next until this transaction does.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database's write lock,
    which any write statement takes, even one that changes no row.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(MERGE_LOCK)))
    else:
        s = SUBSCRIBERS.c
        connection.execute(update(SUBSCRIBERS).where(false()).values(id=s.id))


class _Stored(NamedTuple):
    id: int
    status: Status
    fields: tuple[Any, ...]  # in the order of _MUTABLE
    lists: frozenset[str]
    chose: bool  # saved their preferences page


def merge_chunk(
    connection: Connection,
    rows: Sequence[SubscriberRow],
    now: datetime,
    default: Status,
    replace_lists: bool = False,
) -> Merged:
    """Insert the new, update the known; rows must have distinct, normalised addresses.

    A known reader gets the row's lists added to theirs; with ``replace_lists`` their
    lists become the row's. The caller holds :func:`hold_merge_lock`.
    """
    stored = _load(connection, [row.email for row in rows])
    blocked = _suppressed(connection, [row.email for row in rows if row.email not in stored])
    outcomes: dict[str, Outcome] = {}
    new: list[dict[str, Any]] = []
    new_lists: dict[str, tuple[str, ...]] = {}
    changed: list[dict[str, Any]] = []
    joined: list[dict[str, Any]] = []
    left: list[dict[str, Any]] = []
    stopped: dict[str, Status] = {}  # addresses this chunk gives a suppressed status
    for row in rows:
        current = stored.get(row.email)
        if current is None:
            if row.email in blocked:
                outcomes[row.email] = Outcome.kept_suppressed
                continue
            new.append(values := _new_values(row, now, default))
            if values["status"] in SUPPRESSED:
                stopped[row.email] = values["status"]
            new_lists[row.email] = row.lists
            outcomes[row.email] = Outcome.added
            continue
        if current.chose:
            row = replace(row, present=row.present - CHOSEN_BY_READER)
        fields = _wanted(current, row)
        status = current.status
        if status not in SUPPRESSED and row.status in SUPPRESSED and "status" in row.present:
            status = row.status
        if status != current.status:
            stopped[row.email] = status
        differs = fields != current.fields or status != current.status
        if differs:
            changed.append({"b_id": current.id, "b_status": status, **_named(fields)})
        lists = current.lists
        if "lists" in row.present:
            lists = frozenset(row.lists) if replace_lists else lists.union(row.lists)
        if lists != current.lists:
            joined += ({"subscriber_id": current.id, "list_name": n} for n in lists - current.lists)
            left += ({"b_id": current.id, "b_list": n} for n in current.lists - lists)
        if current.status in SUPPRESSED:
            outcomes[row.email] = Outcome.kept_suppressed
        elif differs or lists != current.lists:
            outcomes[row.email] = Outcome.updated
        else:
            outcomes[row.email] = Outcome.unchanged
    _write(connection, new, new_lists, changed, joined, left)
    _suppress(connection, stopped, now)
    return Merged(outcomes, len(left))


def _load(connection: Connection, emails: list[str]) -> dict[str, _Stored]:
    lookups = queries(connection.dialect.name)
    found = connection.execute(lookups.known, {"emails": emails}).all()
    lists: dict[int, frozenset[str]] = {}
    if found:
        ids = [r[0] for r in found]
        for subscriber_id, names in connection.execute(lookups.lists, {"ids": ids}):
            lists[subscriber_id] = frozenset(names.split(SEPARATOR))
    decoded: dict[str, Any] = {}  # tag sets and attributes repeat; the values are only read
    return {
        email: _Stored(
            key,
            _STATUSES[status],
            (name, zone, locale, _json(tags, list, decoded), _json(attrs, dict, decoded)),
            lists.get(key, frozenset()),
            bool(chose),
        )
        for key, email, status, name, zone, locale, tags, attrs, chose in found
    }


def _json(value: Any, empty: Callable[[], Any], decoded: dict[str, Any]) -> Any:
    if not isinstance(value, str):  # a driver that decodes JSON itself
        return empty() if value is None else value
    if value in ("[]", "{}", "null"):
        return empty()
    found = decoded.get(value)
    if found is None:
        found = decoded[value] = json.loads(value)
    return found


def _suppressed(connection: Connection, emails: list[str]) -> set[str]:
    """Those of ``emails`` whose hash is on the suppression list."""
    if not emails:
        return set()
    hashes = {email_hash(e): e for e in emails}
    query = queries(connection.dialect.name).suppressed
    return {hashes[h] for h in connection.scalars(query, {"hashes": list(hashes)})}


def _suppress(connection: Connection, stopped: dict[str, Status], now: datetime) -> None:
    """List the hashes of addresses that an import marked unsubscribed, bounced or complained."""
    listed = _suppressed(connection, list(stopped))
    rows = [
        {"email_hash": email_hash(email), "reason": status.value, "created_at": now}
        for email, status in stopped.items()
        if email not in listed
    ]
    insert_many(connection, SUPPRESSIONS, rows)


def _wanted(current: _Stored, row: SubscriberRow) -> tuple[Any, ...]:
    """The stored fields after this row: its own where its file has the column, else kept."""
    name, zone, locale, tags, attributes = current.fields
    present = row.present
    merged = dict(row.attributes) if "attributes" in present else dict(attributes)
    merged.pop(FREQUENCY_KEY, None)
    frequency = row.frequency if "frequency" in present else attributes.get(FREQUENCY_KEY, "")
    if frequency:
        merged[FREQUENCY_KEY] = frequency
    return (
        row.name if "name" in present else name,
        row.timezone if "timezone" in present else zone,
        row.locale if "locale" in present else locale,
        list(row.followed_tags) if "followed_tags" in present else tags,
        merged,
    )


def _named(fields: tuple[Any, ...]) -> dict[str, Any]:
    return {f"b_{name}": value for name, value in zip(_MUTABLE, fields, strict=True)}


def _new_values(row: SubscriberRow, now: datetime, default: Status) -> dict[str, Any]:
    status = row.status if row.status is not None and "status" in row.present else default
    if "confirmed_at" in row.present:
        confirmed = row.confirmed_at
    else:
        confirmed = now if status == Status.active else None
    attributes = dict(row.attributes)  # a new subscriber takes the row's values, blank or not
    attributes.pop(FREQUENCY_KEY, None)
    if row.frequency:
        attributes[FREQUENCY_KEY] = row.frequency
    return {
        "email": row.email,
        "name": row.name,
        "status": status,
        "timezone": row.timezone,
        "locale": row.locale,
        "followed_tags": list(row.followed_tags),
        "attributes": attributes,
        "signed_up_at": row.signed_up_at or now,
        "confirmed_at": confirmed,
    }


def _write(
    connection: Connection,
    new: list[dict[str, Any]],
    new_lists: dict[str, tuple[str, ...]],
    changed: list[dict[str, Any]],
    joined: list[dict[str, Any]],
    left: list[dict[str, Any]],
) -> None:
    if new:
        # no RETURNING: SQLite would be sent a RETURNING insert row by row
        insert_many(connection, SUBSCRIBERS, new)
        emails = [n["email"] for n in new if new_lists[n["email"]]]
        added = (
            connection.execute(queries(connection.dialect.name).ids, {"emails": emails})
            if emails
            else ()
        )
        joined += (
            {"subscriber_id": subscriber_id, "list_name": n}
            for subscriber_id, email in added
            for n in new_lists[email]
        )
    if changed:
        s = SUBSCRIBERS.c
        statement = (
            update(SUBSCRIBERS)
            .where(s.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), **{n: bindparam(f"b_{n}") for n in _MUTABLE})
        )
        connection.execute(statement, changed)
    if left:
        connection.execute(
            delete(LISTS).where(
                LISTS.c.subscriber_id == bindparam("b_id"), LISTS.c.list_name == bindparam("b_list")
            ),
            left,
        )
    insert_many(connection, LISTS, joined)
