"""The public archive of a segment with ``archive = true``: each sent edition at
``<base_url>/archive/<segment>/<slug>/``, shown without any reader's data.

The slug is chosen before the edition is rendered, since every email of the edition links
to its page ("View in browser"): the local date and minute it was composed and a random
part (``2026-11-26-0800-3fa9c1``), kept in ``Edition.archive_slug`` when the edition is
recorded. An edition recorded while its segment had no archive has no slug and no page.

The page is the edition's own render (the whole edition, also for a personalised segment)
with neutral values where a reader's go: no greeting, and
the sign-up page where the footer's unsubscribe and preferences links go.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import Config
from digest.errors import DigestError
from digest.render.placeholders import Placeholders
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Article, Edition, EditionItem

NEUTRAL_NAME = "there"  # what templates of earlier versions greet a reader without a name


@dataclass(frozen=True)
class Archived:
    """One edition in a segment's archive."""

    slug: str
    subject: str
    preheader: str
    created_at: datetime


@dataclass(frozen=True)
class ArchivedItem:
    title: str
    url: str
    summary: str


def new_slug(config: Config, segment: SegmentSettings, composed_at: datetime) -> str:
    """A fresh slug for an edition composed at ``composed_at``; "" when the segment has no
    archive."""
    if not segment.archive:
        return ""
    local = composed_at.astimezone(config.zone)
    return f"{local:%Y-%m-%d-%H%M}-{secrets.token_hex(3)}"


def list_path(segment: str) -> str:
    """The archive's list page, below the base URL."""
    return f"/archive/{quote(segment, safe='')}/"


def archive_url(config: Config, segment: str, slug: str) -> str:
    """The edition's public page; "" when it has none (no slug, or the segment's archive is
    off now)."""
    settings = config.segments.get(segment)
    if not slug or settings is None or not settings.archive:
        return ""
    return config.sender.base_url.rstrip("/") + list_path(segment) + quote(slug, safe="") + "/"


def signup_url(config: Config) -> str:
    return config.sender.base_url.rstrip("/") + "/subscribe"


def check_slug_free(session: Session, segment: str, slug: str) -> None:
    """Raise if another edition of ``segment`` has ``slug`` (called under the segment's
    lock, so the check holds until the edition is recorded)."""
    taken = session.scalar(
        select(Edition.id).where(Edition.segment == segment, Edition.archive_slug == slug)
    )
    if taken is not None:
        raise DigestError(f"segment {segment}: archive page {slug} is taken; run it again")


def archived(store: Store, segment: str, limit: int | None = None) -> list[Archived]:
    """The segment's editions that have a page, newest first."""
    query = (
        select(Edition.archive_slug, Edition.subject, Edition.preheader, Edition.created_at)
        .where(Edition.segment == segment, Edition.archive_slug != "")
        .order_by(Edition.created_at.desc(), Edition.id.desc())
        .limit(limit)
    )
    with store.session() as session:
        return [Archived(*row) for row in session.execute(query)]


def archived_items(
    store: Store, segment: str, slugs: Sequence[str]
) -> dict[str, list[ArchivedItem]]:
    """The items of the segment's editions with ``slugs``, in order, by slug."""
    query = (
        select(Edition.archive_slug, Article.title, Article.url, EditionItem.summary)
        .join(EditionItem, EditionItem.article_id == Article.id)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.segment == segment, Edition.archive_slug.in_(list(slugs)))
        .order_by(Edition.id, EditionItem.position)
    )
    items: dict[str, list[ArchivedItem]] = {slug: [] for slug in slugs}
    with store.session() as session:
        for slug, title, url, summary in session.execute(query):
            items[slug].append(ArchivedItem(title, url, summary))
    return items


def archived_page(store: Store, config: Config, segment: str, slug: str) -> str | None:
    """The edition's HTML with neutral values in place of a reader's; None when the
    segment has no archive or no edition has ``slug``."""
    if not archive_url(config, segment, slug):
        return None
    with store.session() as session:
        found = session.execute(
            select(Edition.html, Edition.placeholder_nonce).where(
                Edition.segment == segment, Edition.archive_slug == slug
            )
        ).first()
    if found is None:
        return None
    html, nonce = found
    signup = signup_url(config)
    values = {
        "name": NEUTRAL_NAME,
        "greeting": "",  # no one to greet
        "unsubscribe_url": signup,
        "preferences_url": signup,
    }
    return Placeholders(nonce).fill(html, "html", values)
