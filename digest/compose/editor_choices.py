"""Editors' choices for a segment's next edition: pin an article to the top, or exclude it.

A choice holds until an edition that used it is recorded (:func:`consume`). A pinned
article always leads the next edition, whatever its age and tags, unless the segment has
already sent it: a segment never sends an article twice, so such a pin is refused
(:class:`AlreadySentError`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.errors import DigestError
from digest.settings import SegmentSettings
from digest.store.models import Article, Edition, EditionItem, EditorAction, EditorChoice


class UnknownArticleError(DigestError):
    """The URL or id names no stored article."""


class AlreadySentError(DigestError):
    """The segment has already sent the article: no choice about it can change anything."""

    def __init__(self, article: Article, segment: str, edition: Edition) -> None:
        super().__init__(
            f"#{article.id} {article.title!r} {sent_line(segment, edition)}; a segment never "
            "sends an article twice"
        )
        self.edition = edition


@dataclass(frozen=True)
class Choices:
    pinned: frozenset[int] = frozenset()
    excluded: frozenset[int] = frozenset()


def find_article(session: Session, ref: str) -> Article:
    """The stored article with this id or URL, or one line saying how to find it."""
    ref = ref.strip()
    found = (
        session.get(Article, int(ref))
        if ref.isdigit()
        else session.scalar(select(Article).where(Article.url == ref))
    )
    if found is None:
        raise UnknownArticleError(
            f"no stored article {ref!r}; give an article id or its canonical URL "
            "(`digest preview --json` lists both)"
        )
    return found


def choose_article(
    session: Session, segment: str, ref: str, action: EditorAction, now: datetime
) -> Article:
    """Record the choice; a later choice for the same article replaces an earlier one.

    Raises :class:`AlreadySentError`, recording nothing, when the segment already sent it."""
    article = find_article(session, ref)
    edition = sent_in(session, segment, article.id)
    if edition is not None:
        raise AlreadySentError(article, segment, edition)
    choice = session.get(EditorChoice, (segment, article.id))
    if choice is None:
        session.add(
            EditorChoice(segment=segment, article_id=article.id, action=action, created_at=now)
        )
    else:
        choice.action, choice.created_at = action, now
    session.flush()
    return article


def choices(session: Session, segment: str) -> Choices:
    rows = session.scalars(select(EditorChoice).where(EditorChoice.segment == segment))
    pinned: set[int] = set()
    excluded: set[int] = set()
    for row in rows:
        (pinned if row.action == EditorAction.pin else excluded).add(row.article_id)
    return Choices(frozenset(pinned), frozenset(excluded))


def consume(session: Session, segment: str, article_ids: Collection[int]) -> None:
    """Forget the segment's choices about these articles (the edition has used them)."""
    session.execute(
        delete(EditorChoice).where(
            EditorChoice.segment == segment, EditorChoice.article_id.in_(list(article_ids))
        )
    )


def sent_in(session: Session, segment: str, article_id: int) -> Edition | None:
    """The segment's first edition that carried the article, if one did."""
    return session.scalar(
        select(Edition)
        .join(EditionItem, EditionItem.edition_id == Edition.id)
        .where(Edition.segment == segment, EditionItem.article_id == article_id)
        .order_by(Edition.id)
        .limit(1)
    )


def sent_line(segment: str, edition: Edition) -> str:
    return f"already went out in {segment}'s edition {edition.id} ({edition.created_at:%Y-%m-%d})"


def pin_notes(
    session: Session, segment: SegmentSettings, article: Article, now: datetime
) -> list[str]:
    """What a pin overrides (the segment's lookback, its tags, a story it already carried)
    and who will not see it."""
    notes = []
    tags = set(article.tag_names)
    age = now - article.published_at
    if age > timedelta(days=segment.lookback_days):
        notes.append(
            f"published {age.days} days ago, before the {segment.lookback_days:g}-day "
            "lookback: the pin puts it in anyway"
        )
    if segment.include_tags and not tags & set(segment.include_tags):
        notes.append(
            "it carries none of the segment's include_tags ("
            + ", ".join(segment.include_tags)
            + "): the pin puts it in anyway"
        )
    unwanted = sorted(tags & set(segment.exclude_tags))
    if unwanted:
        notes.append(
            f"it carries the excluded tag {', '.join(unwanted)}: the pin puts it in anyway"
        )
    if article.cluster_id is not None:
        earlier = session.execute(
            select(Edition.id, Article.id)
            .join(EditionItem, EditionItem.edition_id == Edition.id)
            .join(Article, Article.id == EditionItem.article_id)
            .where(
                Edition.segment == segment.name,
                Article.cluster_id == article.cluster_id,
                Article.id != article.id,
            )
            .order_by(Edition.id)
            .limit(1)
        ).first()
        if earlier is not None:
            notes.append(
                f"#{earlier[1]}, a report of the same story, went out in edition {earlier[0]}: "
                "the pin puts this one in anyway"
            )
    if segment.personalised:
        shown = ", ".join(sorted(tags)) or "none"
        notes.append(
            "the segment is personalised: only readers who follow one of its tags "
            f"({shown}) or no tag at all get it"
        )
    return notes
