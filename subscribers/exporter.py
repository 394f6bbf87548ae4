"""Export subscribers, streamed a page at a time, in the form an import reads back.

Every field is written: status, frequency, time zone, locale, followed tags and lists
(``;``-separated in CSV, arrays in JSON Lines), attributes (a JSON object), and the sign-up
and confirmation times (ISO 8601, UTC). Importing an export into an empty store gives the
same subscribers. Erased subscribers (placeholders) are not people any more: they are left out.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, cast

from sqlalchemy import Connection, Table, select

from subscribers.columns import COLUMNS
from subscribers.errors import AudienceError
from subscribers.importer.addresses import is_erased
from subscribers.importer.rows import FREQUENCY_KEY
from subscribers.models import Membership, Status, Subscriber

FORMATS = ("csv", "jsonl")
PAGE = 5_000
_TIMES = ("signed_up_at", "confirmed_at")
STORED_FIELDS = (
    "email",
    "name",
    "status",
    "timezone",
    "locale",
    "followed_tags",
    "attributes",
    *_TIMES,
)
SUBSCRIBERS = cast(Table, Subscriber.__table__)
LISTS = cast(Table, Membership.__table__)


def record(values: Mapping[Any, Any], lists: list[str]) -> dict[str, Any]:
    """One subscriber as plain JSON-ready values, in COLUMNS order."""
    attributes = dict(values["attributes"] or {})
    frequency = attributes.pop(FREQUENCY_KEY, "")
    times = {k: values[k].isoformat() if isinstance(values[k], datetime) else None for k in _TIMES}
    return {
        "email": values["email"],
        "name": values["name"],
        "status": Status(values["status"]).value,
        "frequency": frequency,
        "timezone": values["timezone"],
        "locale": values["locale"],
        "followed_tags": list(values["followed_tags"] or []),
        "lists": sorted(lists),
        "attributes": attributes,
        **times,
    }


def records(connection: Connection, status: Status | None = None) -> Iterator[dict[str, Any]]:
    """Every subscriber (with ``status``, when given), by id, one page in memory at a time."""
    s = SUBSCRIBERS.c
    last = 0
    while True:
        query = select(s.id, *(s[c] for c in STORED_FIELDS)).where(s.id > last)
        if status is not None:
            query = query.where(s.status == status)
        page = connection.execute(query.order_by(s.id).limit(PAGE)).all()
        if not page:
            return
        lists: dict[int, list[str]] = {}
        members = select(LISTS.c.subscriber_id, LISTS.c.list_name).where(
            LISTS.c.subscriber_id.in_([r.id for r in page])
        )
        for subscriber_id, list_name in connection.execute(members):
            lists.setdefault(subscriber_id, []).append(list_name)
        for row in page:
            if not is_erased(row.email):
                yield record(row._mapping, lists.get(row.id, []))
        last = page[-1].id


def write(rows: Iterator[dict[str, Any]], handle: TextIO, fmt: str) -> int:
    """Write ``rows`` as CSV or JSON Lines; return how many."""
    count = 0
    writer = csv.writer(handle)
    if fmt != "jsonl":
        writer.writerow(COLUMNS)
    for row in rows:
        if fmt == "jsonl":
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer.writerow([_cell(row[c]) for c in COLUMNS])
        count += 1
    return count


def write_file(rows: Iterator[dict[str, Any]], path: Path, fmt: str) -> int:
    """Write to a temporary file beside ``path`` and move it into place when complete."""
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as e:
        raise AudienceError(f"{path}: cannot write the export ({e.strerror})") from e
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            count = write(rows, handle, fmt)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return str(value)
