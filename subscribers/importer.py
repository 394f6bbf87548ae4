"""Read subscribers from CSV and merge them into the store.

Every row is untrusted: a bad row yields one :class:`ImportRowError` naming
the file and line, and never stops the good rows.  A merge never re-activates
an address that unsubscribed, bounced, complained or was erased.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.errors import ImportFileError, ImportRowError
from subscribers.models import SUPPRESSED, Membership, Status, Subscriber, Suppression

KNOWN_COLUMNS = frozenset({"email", "name", "lists", "timezone", "locale", "followed_tags"})


@dataclass(frozen=True)
class SubscriberRow:
    email: str
    name: str = ""
    lists: tuple[str, ...] = ()
    timezone: str = "UTC"
    locale: str = ""
    followed_tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class MergeResult:
    added: int = 0
    updated: int = 0
    kept_suppressed: int = 0


def email_hash(address: str) -> str:
    """The suppression key of an address: SHA-256 of its normalised form."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def normalise_email(address: str) -> str:
    """Validate syntax (no DNS) and return the address in lower case, or raise ValueError.

    Mailbox providers treat local parts case-insensitively, and one person must not become
    two subscribers because a list spelled them ``Ada@`` once and ``ada@`` the next time.
    """
    try:
        valid = validate_email(address.strip(), check_deliverability=False)
        return str(valid.normalized).lower()
    except EmailNotValidError as e:
        raise ValueError(str(e)) from None


def _split(value: str | None) -> tuple[str, ...]:
    parts = (p.strip() for p in (value or "").replace(",", ";").split(";"))
    return tuple(dict.fromkeys(p for p in parts if p))


def read_csv(path: Path) -> Iterator[SubscriberRow | ImportRowError]:
    """Yield a row or a row error for each data line of a subscribers CSV."""
    source = str(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        raise ImportFileError(f"{source}: cannot open subscribers file ({e.strerror})") from e
    with handle:
        try:
            sample = handle.read(4096)
            handle.seek(0)
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        except csv.Error:
            dialect = csv.excel
        except UnicodeDecodeError as e:
            raise ImportFileError(f"{source}: not UTF-8 text; save it as UTF-8 CSV") from e
        reader = csv.DictReader(handle, dialect=dialect)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "email" not in header:
            raise ImportFileError(f"{source}:1: no 'email' column in the header row")
        reader.fieldnames = header
        try:
            for record in reader:
                yield _row(source, reader.line_num, record)
        except (csv.Error, UnicodeDecodeError) as e:
            raise ImportFileError(f"{source}:{reader.line_num}: unreadable CSV ({e})") from e


def _row(source: str, line: int, record: dict[str | None, Any]) -> SubscriberRow | ImportRowError:
    if None in record:
        return ImportRowError(source, line, "more fields than the header has columns")
    raw = (record.get("email") or "").strip()
    if not raw:
        return ImportRowError(source, line, "empty email address; fill it in or remove the row")
    try:
        address = normalise_email(raw)
    except ValueError as e:
        return ImportRowError(source, line, f"invalid email address {raw!r}: {e}")
    zone = (record.get("timezone") or "").strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ImportRowError(source, line, f"unknown time zone {zone!r}; use an IANA name")
    return SubscriberRow(
        email=address,
        name=(record.get("name") or "").strip(),
        lists=_split(record.get("lists")),
        timezone=zone,
        locale=(record.get("locale") or "").strip(),
        followed_tags=tuple(t.lower() for t in _split(record.get("followed_tags"))),
        attributes={
            str(k): str(v).strip() for k, v in record.items() if k not in KNOWN_COLUMNS and v
        },
    )


def merge(session: Session, rows: list[SubscriberRow], now: datetime) -> MergeResult:
    """Insert new subscribers and update known ones; suppressed ones stay suppressed."""
    result = MergeResult()
    by_email = {row.email.lower(): row for row in rows}
    existing = {
        s.email.lower(): s
        for s in session.scalars(select(Subscriber).where(Subscriber.email.in_(list(by_email))))
    }
    suppressed = set(
        session.scalars(
            select(Suppression.email_hash).where(
                Suppression.email_hash.in_([email_hash(e) for e in by_email])
            )
        )
    )
    for key, row in by_email.items():
        subscriber = existing.get(key)
        if subscriber is None:
            blocked = email_hash(key) in suppressed
            subscriber = Subscriber(
                email=row.email,
                status=Status.unsubscribed if blocked else Status.active,
                signed_up_at=now,
                confirmed_at=None if blocked else now,
            )
            session.add(subscriber)
            result.added += 1
            result.kept_suppressed += blocked
        else:
            result.kept_suppressed += subscriber.status in SUPPRESSED
            if _fields(subscriber) == _wanted(row):
                continue
            result.updated += 1
        subscriber.name = row.name
        subscriber.timezone = row.timezone
        subscriber.locale = row.locale
        subscriber.followed_tags = list(row.followed_tags)
        subscriber.attributes = dict(row.attributes)
        wanted = set(row.lists)
        subscriber.lists = [m for m in subscriber.lists if m.list_name in wanted] + [
            Membership(list_name=name) for name in sorted(wanted - subscriber.list_names)
        ]
    session.flush()
    return result


def _fields(s: Subscriber) -> tuple[object, ...]:
    return (s.name, s.timezone, s.locale, list(s.followed_tags), dict(s.attributes), s.list_names)


def _wanted(row: SubscriberRow) -> tuple[object, ...]:
    return (
        row.name,
        row.timezone,
        row.locale,
        list(row.followed_tags),
        row.attributes,
        set(row.lists),
    )
