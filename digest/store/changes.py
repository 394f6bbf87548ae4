"""How many times the store's articles changed, counted by the database itself.

Triggers (migration 0018) add one to the ``articles`` row of ``store_changes`` in the
same transaction as any insert, update or delete of an article or a tag, and any insert,
delete or rename (name, title) of a source, whichever process or statement makes it. A
reader that kept what it read, with the count read *before* it, knows it is still what
the store holds while the count is the same (:class:`digest.compose.recent.RecentArticles`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.store.models import StoreChange

ARTICLES = "articles"


def articles_changed(session: Session) -> int | None:
    """The count of changes to the articles, their tags and sources' names; None when the
    store does not count them."""
    return session.scalar(select(StoreChange.serial).where(StoreChange.name == ARTICLES))
