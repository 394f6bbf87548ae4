"""Apply a batch of SendGrid events to the store: suppress addresses, count engagement.

- ``bounce`` (``type`` bounce; a ``blocked`` bounce is the receiving server refusing
  our IP or content for now, not a dead address, and is left alone), ``dropped``
  with reason "Bounced Address" or "Invalid" → bounced; ``dropped`` "Spam Reporting
  Address" and ``spamreport`` → complained; ``dropped`` "Unsubscribed Address",
  ``unsubscribe`` and ``group_unsubscribe`` → unsubscribed. Each suppresses at once.
- ``open`` (not ``sg_machine_open``: Apple Mail Privacy Protection fetches every image)
  and ``click`` count for the edition named by the ``edition`` custom arg; a click's
  ``url`` is matched to one of that edition's articles by its canonical URL.
- Every other event (processed, delivered, deferred, group_resubscribe, unknown ones)
  is acknowledged and ignored.

Each event is applied once: its ``sg_event_id`` (or, lacking one, the hash of the
event) is kept for :data:`KEEP` (SendGrid retries for 24 hours) and a repeat is skipped.

Each event is applied in its own savepoint. A malformed one (not an object, an
``edition`` that is not a whole number the column can hold, a value the database
refuses) is rolled back alone, logged and counted as ``malformed``; the rest of the
batch, a bounce in it included, is applied.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from digest.store.engagement import record_click, record_opens
from digest.store.models import Article, EditionItem
from digest.store.urls import canonical_url
from subscribers.importer import normalise_email
from subscribers.models import Status, WebhookEvent
from subscribers.suppression import suppress_address

KEEP = timedelta(days=3)
MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on every store
EDITION_TEXT = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²".isdigit() is True
EVENT_ID = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, as SendGrid's ids are
KIND = re.compile(r"[a-z_]{1,40}")
SEEN_CHUNK = 500
log = logging.getLogger("digest.web")
SUPPRESSING = {
    "spamreport": Status.complained,
    "unsubscribe": Status.unsubscribed,
    "group_unsubscribe": Status.unsubscribed,
}
DROPPED = {
    "bounced address": Status.bounced,
    "invalid": Status.bounced,
    "spam reporting address": Status.complained,
    "unsubscribed address": Status.unsubscribed,
}


@dataclass
class Tally:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    malformed: int = 0


class MalformedEvent(ValueError):
    """An event whose fields cannot be used; ``str()`` says which."""


def event_id(event: dict[str, Any]) -> str:
    given = event.get("sg_event_id")
    if isinstance(given, str) and EVENT_ID.fullmatch(given):
        return given
    text = json.dumps(event, sort_keys=True, default=str)  # ASCII: escapes any surrogate
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()[:64]


def kind_of(event: dict[str, Any]) -> str:
    kind = event.get("event")
    return kind if isinstance(kind, str) and KIND.fullmatch(kind) else "unknown"


def suppression_for(event: dict[str, Any]) -> Status | None:
    kind = event.get("event")
    if kind == "bounce":
        return None if str(event.get("type", "bounce")).lower() == "blocked" else Status.bounced
    if kind == "dropped":
        return DROPPED.get(str(event.get("reason", "")).strip().lower())
    return SUPPRESSING.get(str(kind))


def edition_of(event: dict[str, Any]) -> int | None:
    """The ``edition`` custom arg as an id; None when absent; MalformedEvent when unusable."""
    value = event.get("edition")
    if value is None:
        return None
    if isinstance(value, str) and EDITION_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return value
    raise MalformedEvent(f"edition {str(value)[:40]!r} is not an edition number")


def article_of(session: Session, edition_id: int, url: str) -> int | None:
    """The article of ``edition_id`` whose stored (canonical) URL the click went to."""
    urls = list(dict.fromkeys([url, canonical_url(url)]))
    found: int | None = session.scalar(
        select(Article.id)
        .join(EditionItem, EditionItem.article_id == Article.id)
        .where(EditionItem.edition_id == edition_id, Article.url.in_(urls))
        .limit(1)
    )
    return found


def _apply(session: Session, event: dict[str, Any], opens: Counter[int], now: datetime) -> bool:
    status = suppression_for(event)
    if status is not None:
        try:
            address = normalise_email(str(event.get("email", "")))
        except ValueError:
            return False
        suppress_address(session, address, status, now)
        return True
    kind = event.get("event")
    edition = edition_of(event)
    if kind == "open" and edition is not None and not event.get("sg_machine_open"):
        opens[edition] += 1
        return True
    if kind == "click" and edition is not None and isinstance(event.get("url"), str):
        article = article_of(session, edition, str(event["url"]))
        if article is not None:
            record_click(session, edition, article, now)
            return True
    return False


def _key(event: dict[str, Any]) -> str:
    try:
        return event_id(event)
    except RecursionError:  # nested deeper than json.dumps will go
        return ""


def _seen(session: Session, ids: list[str]) -> set[str]:
    """The ids among ``ids`` already applied, asked in chunks (stores cap bound parameters)."""
    seen: set[str] = set()
    for start in range(0, len(ids), SEEN_CHUNK):
        chunk = ids[start : start + SEEN_CHUNK]
        seen.update(
            session.scalars(select(WebhookEvent.event_id).where(WebhookEvent.event_id.in_(chunk)))
        )
    return seen


def _apply_one(
    session: Session, key: str, event: dict[str, Any], opens: Counter[int], now: datetime
) -> bool | None:
    """Apply one event in a savepoint: True applied, False ignored, None malformed.

    A value the event carries that the database refuses (out of range, a NUL byte, a lone
    surrogate) undoes this event alone. Store failures (a lock, a lost connection, the
    same event applied at this moment by another request) are left to the caller.
    """
    counted: Counter[int] = Counter()
    try:
        with session.begin_nested():
            session.add(WebhookEvent(event_id=key, kind=kind_of(event), received_at=now))
            applied = _apply(session, event, counted, now)
    except (MalformedEvent, DataError, ValueError, TypeError, OverflowError) as e:
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        log.warning("sendgrid event %s skipped: %s", key[:40], reason)
        return None
    opens.update(counted)
    return applied


def apply_events(session: Session, events: list[Any], now: datetime) -> Tally:
    """Apply each new event once; a malformed one is skipped and counted, never fatal."""
    tally = Tally(received=len(events))
    keyed = [(key, e) for e in events if isinstance(e, dict) and (key := _key(e))]
    tally.malformed = len(events) - len(keyed)
    seen = _seen(session, list(dict.fromkeys(key for key, _ in keyed)))
    opens: Counter[int] = Counter()
    for key, event in keyed:
        if key in seen:
            tally.duplicates += 1
            continue
        seen.add(key)
        outcome = _apply_one(session, key, event, opens, now)
        if outcome is None:
            tally.malformed += 1
        elif outcome:
            tally.applied += 1
        else:
            tally.ignored += 1
    for edition, count in sorted(opens.items()):
        with session.begin_nested():
            found = record_opens(session, edition, count, now)
        if not found:
            tally.applied -= count
            tally.ignored += count
    session.execute(delete(WebhookEvent).where(WebhookEvent.received_at < now - KEEP))
    return tally
