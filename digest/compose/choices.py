"""Editors' choices for a segment's next edition: pin an article to the top, or exclude it.

A choice holds until an edition that used it is recorded (:func:`consume`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.errors import DigestError
from digest.store.models import Article, EditorAction, EditorChoice


class UnknownArticleError(DigestError):
    """The URL or id names no stored article."""


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
    """Record the choice; a later choice for the same article replaces an earlier one."""
    article = find_article(session, ref)
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
