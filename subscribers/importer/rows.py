"""One subscriber row: the fields an import knows, how columns map to them, and validation.

A row sets only the fields whose columns the file has: a file of ``email,name`` renames
people and leaves their lists, tags and attributes alone. Other columns become attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from subscribers.columns import COLUMNS, NAME_PARTS
from subscribers.importer.addresses import normalise_email
from subscribers.models import Status

_AFTER_NAME = COLUMNS.index("name") + 1
FIELDS = (*COLUMNS[:_AFTER_NAME], *NAME_PARTS, *COLUMNS[_AFTER_NAME:])  # what an import reads
STORED = frozenset({"name", "lists", "timezone", "locale", "followed_tags", "attributes"})
FREQUENCIES = ("daily", "weekly", "monthly")  # the default of digest's [web] frequencies
FREQUENCY_KEY = "frequency"  # kept in attributes until subscribers has a column of its own
IGNORE = ""  # the target of a column that is read and dropped (``--map Notes=-``)
_ALIASES = {
    "email": ("email", "e mail", "email address", "e mail address", "mail", "emailaddress"),
    "name": ("name", "full name", "fullname", "display name"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "status": ("status",),
    "frequency": ("frequency",),
    "timezone": ("timezone", "time zone", "tz"),
    "locale": ("locale", "language", "lang"),
    "followed_tags": ("followed tags", "tags", "topics", "interests"),
    "lists": ("lists", "list"),
    "attributes": ("attributes",),
    "signed_up_at": ("signed up at", "signed up", "signup date", "subscribed at", "created at"),
    "confirmed_at": ("confirmed at", "confirmed", "confirmation date"),
}
ALIASES = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*\Z")
_STATUSES = {s.value: s for s in Status}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ColumnClashError(ValueError):
    """Two columns set one field; ``plain`` says so without the ``--map`` remedy."""

    def __init__(self, plain: str, option: str) -> None:
        super().__init__(f"{plain}, or {option}")
        self.plain = plain


@dataclass(slots=True)
class SubscriberRow:
    email: str
    name: str = ""
    lists: tuple[str, ...] = ()
    timezone: str = "UTC"
    locale: str = ""
    followed_tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    frequency: str = ""
    status: Status | None = None
    signed_up_at: datetime | None = None
    confirmed_at: datetime | None = None
    present: frozenset[str] = STORED  # the fields this row sets; the others are kept


def header_key(column: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", column.strip().lower())).strip()


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["E-mail=email", "Notes=-", "Team=attributes.team"]`` → column (lower case) → target."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, equals, target = pair.rpartition("=")
        if not equals or not column.strip():
            raise ValueError(f"{pair!r}: write COLUMN=FIELD, for example 'E-mail=email'")
        wanted = target.strip()
        if wanted == "-":
            mapping[column.strip().lower()] = IGNORE
        elif wanted.lower().startswith("attributes.") and len(wanted) > len("attributes."):
            mapping[column.strip().lower()] = "@" + wanted[len("attributes.") :]
        elif wanted.lower() in FIELDS:
            mapping[column.strip().lower()] = wanted.lower()
        else:
            raise ValueError(
                f"{pair!r}: unknown field {wanted!r}; use one of {', '.join(FIELDS)}, "
                "attributes.NAME, or - to ignore the column"
            )
    return mapping


def targets(columns: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """What each column sets: a field, ``@name`` (an attribute) or IGNORE; ValueError on a clash."""
    result: list[str] = []
    where: dict[str, str] = {}
    for column in columns:
        name = column.strip()
        target = mapping.get(name.lower())
        if target is None:
            target = ALIASES.get(header_key(name), "@" + name.lower() if name else IGNORE)
        if target and target in where:
            meaning = target[1:] if target.startswith("@") else target
            raise ColumnClashError(
                f"columns {where[target]!r} and {name!r} both set {meaning}; keep one",
                f"pass --map '{name}=-'",
            )
        where[target] = name
        result.append(target)
    return result


def presence(chosen: Sequence[str]) -> frozenset[str]:
    present = {t for t in chosen if t and not t.startswith("@")}
    if not present.isdisjoint(NAME_PARTS):
        present.add("name")
    if "attributes" in present or any(t.startswith("@") for t in chosen):
        present.add("attributes")
    return frozenset(present)


def build(
    values: Mapping[str, Any],
    extra: dict[str, Any],
    present: frozenset[str],
    frequencies: Sequence[str] = FREQUENCIES,
) -> SubscriberRow:
    """A validated row from field values; ValueError names the first problem.

    Called once per imported row, so each field costs nothing when its value is empty.
    """
    get = values.get
    raw = _text(get("email"), "email")
    if not raw:
        raise ValueError("empty email address; fill it in or remove the row")
    try:
        email = normalise_email(raw)
    except ValueError as e:
        raise ValueError(f"invalid email address {raw!r}: {e}") from None
    attributes = _attributes(v) if (v := get("attributes")) else {}
    if extra:
        attributes.update(extra)
    return SubscriberRow(
        email=email,
        name=_name(values) if "name" in present else "",
        lists=_lists(v) if (v := get("lists")) else (),
        timezone=_zone(_text(v, "timezone")) if (v := get("timezone")) else "UTC",
        locale=_locale(_text(v, "locale")) if (v := get("locale")) else "",
        followed_tags=_names(_lower(v), "followed_tags") if (v := get("followed_tags")) else (),
        attributes=attributes,
        frequency=_choice(v, "frequency", frequencies) if (v := get("frequency")) else "",
        status=_status(v) if (v := get("status")) else None,
        signed_up_at=_time(v, "signed_up_at") if (v := get("signed_up_at")) else None,
        confirmed_at=_time(v, "confirmed_at") if (v := get("confirmed_at")) else None,
        present=present,
    )


def _name(values: Mapping[str, Any]) -> str:
    name = " ".join(_text(values.get("name"), "name").split())
    if not name and any(k in values for k in NAME_PARTS):
        parts = (_text(values.get(k), k) for k in NAME_PARTS)
        name = " ".join(" ".join(parts).split())
    if len(name) > 200:
        raise ValueError("name is longer than 200 characters")
    return name


def _lists(value: Any) -> tuple[str, ...]:
    lists = _names(value, "lists")
    if any(len(n) > 100 for n in lists):
        raise ValueError("a list name is longer than 100 characters")
    return lists


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {type(value).__name__}")


def _names(value: Any, name: str) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(",", ";").split(";")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [v.strip() for v in value]
    else:
        raise ValueError(f"{name} must be text or a list of text, not {type(value).__name__}")
    if _CONTROL.search("".join(parts)):
        raise ValueError(f"{name} contain a control character; remove it")
    if len(parts) == 1:
        return (parts[0],) if parts[0] else ()
    return tuple(dict.fromkeys(p for p in parts if p))


def _lower(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [v.lower() if isinstance(v, str) else v for v in value]
    return value


def _attributes(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError('attributes must be a JSON object such as {"plan": "pro"}') from None
    if not isinstance(value, dict):
        raise ValueError('attributes must be a JSON object such as {"plan": "pro"}')
    return {str(k): v for k, v in value.items() if v is not None}


def _zone(value: str) -> str:
    zone = _known_zone(value or "UTC")
    if zone is None:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London")
    return zone


@lru_cache(maxsize=4096)
def _known_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
        return value
    except (ZoneInfoNotFoundError, ValueError):
        return _zones_by_lower_name().get(value.lower())


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@lru_cache(maxsize=4096)
def _locale(value: str) -> str:
    tag = value.replace("_", "-")
    if tag and (len(tag) > 35 or not _LOCALE.match(tag)):
        raise ValueError(f"locale {value!r} is not a language tag such as en-GB")
    return tag


def _choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    text = _text(value, name).lower()
    if text and text not in allowed:
        raise ValueError(f"unknown {name} {text!r}; use one of {', '.join(allowed)}")
    return text


def _status(value: Any) -> Status | None:
    text = _choice(value, "status", tuple(_STATUSES))
    return _STATUSES[text] if text else None


def _time(value: Any, name: str) -> datetime | None:
    text = _text(value, name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a time such as 2024-05-01T09:30:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
