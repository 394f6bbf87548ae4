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
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.intake.urls import canonical_url
from digest.store.engagement import record_click, record_opens
from digest.store.models import Article, EditionItem
from subscribers.importer import normalise_email
from subscribers.models import Status, WebhookEvent
from subscribers.suppression import suppress_address

KEEP = timedelta(days=3)
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


def event_id(event: dict[str, Any]) -> str:
    given = event.get("sg_event_id")
    if isinstance(given, str) and 0 < len(given) <= 100:
        return given
    text = json.dumps(event, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:64]


def suppression_for(event: dict[str, Any]) -> Status | None:
    kind = event.get("event")
    if kind == "bounce":
        return None if str(event.get("type", "bounce")).lower() == "blocked" else Status.bounced
    if kind == "dropped":
        return DROPPED.get(str(event.get("reason", "")).strip().lower())
    return SUPPRESSING.get(str(kind))


def edition_of(event: dict[str, Any]) -> int | None:
    value = event.get("edition")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


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


def apply_events(session: Session, events: list[Any], now: datetime) -> Tally:
    """Apply each new event once; a malformed one is counted as ignored, never fatal."""
    tally = Tally(received=len(events))
    keyed = [(event_id(e), e) for e in events if isinstance(e, dict)]
    tally.ignored = len(events) - len(keyed)
    ids = [key for key, _ in keyed]
    seen = set(session.scalars(select(WebhookEvent.event_id).where(WebhookEvent.event_id.in_(ids))))
    opens: Counter[int] = Counter()
    for key, event in keyed:
        if key in seen:
            tally.duplicates += 1
            continue
        seen.add(key)
        session.add(
            WebhookEvent(event_id=key, kind=str(event.get("event", ""))[:40], received_at=now)
        )
        if _apply(session, event, opens, now):
            tally.applied += 1
        else:
            tally.ignored += 1
    for edition, count in sorted(opens.items()):
        if not record_opens(session, edition, count, now):
            tally.applied -= count
            tally.ignored += count
    session.execute(delete(WebhookEvent).where(WebhookEvent.received_at < now - KEEP))
    return tally
