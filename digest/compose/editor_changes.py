"""Editors' changes to a segment's next edition besides pins and exclusions: their order of
the items, their version of an item's headline and summary, a note at the top and a
subject line.

They are stored (:class:`~digest.store.models.NextEdition`,
:class:`~digest.store.models.EditorEdit`), applied by every compose of the segment, a
send's as a preview's, and used up when the edition that carries them is recorded
(:func:`consume_changes`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.store.models import EditorEdit, NextEdition

T = TypeVar("T")


@dataclass(frozen=True)
class ItemEdit:
    title: str = ""  # "" keeps the article's own headline
    summary: str = ""  # "" keeps the composed summary


@dataclass(frozen=True)
class EditorChanges:
    order: tuple[int, ...] = ()  # article ids in the editor's order
    edits: Mapping[int, ItemEdit] = field(default_factory=dict)
    note: str = ""  # Markdown
    subject: str = ""  # "" keeps the segment's subject


def parse_order(text: str) -> tuple[int, ...]:
    """The stored order (ids, comma-separated); anything else in it is ignored."""
    return tuple(int(part) for part in text.split(",") if part.strip().isdigit())


def load_changes(session: Session, segments: Collection[str]) -> dict[str, EditorChanges]:
    """Each named segment's stored changes (segments without any are absent)."""
    names = sorted(segments)
    edits: dict[str, dict[int, ItemEdit]] = {}
    for row in session.scalars(select(EditorEdit).where(EditorEdit.segment.in_(names))):
        edits.setdefault(row.segment, {})[row.article_id] = ItemEdit(row.title, row.summary)
    found: dict[str, EditorChanges] = {
        name: EditorChanges(edits=items) for name, items in edits.items()
    }
    for whole in session.scalars(select(NextEdition).where(NextEdition.segment.in_(names))):
        found[whole.segment] = EditorChanges(
            parse_order(whole.order), edits.get(whole.segment, {}), whole.note, whole.subject
        )
    return found


def in_order(items: Sequence[T], order: Sequence[int], key: Callable[[T], int]) -> list[T]:
    """The items the editor ordered first, in their order, then the others as composed
    (articles that arrived since the editor ordered the edition); ``key`` is an item's
    article id."""
    if not order:
        return list(items)
    rank = {article_id: n for n, article_id in enumerate(order)}
    ordered = sorted((i for i in items if key(i) in rank), key=lambda i: rank[key(i)])
    return [*ordered, *(i for i in items if key(i) not in rank)]


def consume_changes(
    session: Session,
    segment: str,
    article_ids: Collection[int],
    *,
    note: str,
    subject: str,
) -> None:
    """The edition has used these: forget the edits of its articles, its order, and the
    note and subject it carried (one written meanwhile stays for the next edition)."""
    session.execute(
        delete(EditorEdit).where(
            EditorEdit.segment == segment, EditorEdit.article_id.in_(list(article_ids))
        )
    )
    row = session.get(NextEdition, segment, with_for_update=True)
    if row is None:
        return
    row.order = ""
    if row.note == note:
        row.note = ""
    if row.subject == subject:
        row.subject = ""
    if not (row.note or row.subject):
        session.delete(row)
