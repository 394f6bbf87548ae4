"""Why the next edition is what it is, for editors: the order its items were picked in,
the pinned articles it leaves out and why, and the whole draft as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from digest.compose.edition import Draft
from digest.compose.editor_choices import sent_in, sent_line
from digest.store.models import Article


def order_line(draft: Draft) -> str:
    """How the items are ordered: the order they were picked in, which after the diversity
    step is not always by score (a high score whose tags the items above already cover
    waits for one that adds a topic)."""
    segment = draft.segment
    count = f"{len(draft.items)} item" + ("s" if len(draft.items) != 1 else "")
    if draft.reordered:
        return f"{segment.name}: {count} in the editor's order"
    pins = "pins first, then " if any(i.article_id in draft.pinned for i in draft.items) else ""
    if not segment.diversity:
        return f"{segment.name}: {count}, {pins}by score"
    scores = [i.score for i in draft.items if i.article_id not in draft.pinned]
    unsorted = any(later > earlier for earlier, later in pairwise(scores))
    return (
        f"{segment.name}: {count} in the order picked: {pins}each time the best score less its "
        f"tag overlap with the items above (diversity {segment.diversity:g})"
        + ("; so a score can be higher than the one above it" if unsorted else "")
    )


@dataclass(frozen=True)
class LeftOutPin:
    article_id: int
    title: str
    reason: str


def pins_left_out(session: Session, draft: Draft) -> list[LeftOutPin]:
    """Every pinned article the draft does not carry, with the reason."""
    shown = {item.article_id for item in draft.items}
    dropped = {left.article_id: left for left in draft.dropped}
    found = []
    for article_id in sorted(draft.pinned - shown):
        if article_id in dropped:
            left = dropped[article_id]
            found.append(LeftOutPin(article_id, left.title, left.reason))
            continue
        article = session.get(Article, article_id)
        edition = sent_in(session, draft.segment.name, article_id)
        reason = (
            sent_line(draft.segment.name, edition) + "; the next edition clears this pin"
            if edition is not None
            else "not a candidate of this segment"
        )
        found.append(LeftOutPin(article_id, article.title if article else "", reason))
    return found


def as_dict(draft: Draft, html: Path | None, unpinned: Sequence[LeftOutPin] = ()) -> dict[str, Any]:
    items = [
        {
            "position": n,
            **{k: v for k, v in asdict(item).items() if k != "also"},
            "published": item.published.isoformat(),
            "also": [{"outlet": o, "url": u} for o, u in item.also],
        }
        for n, item in enumerate(draft.items, start=1)
    ]
    dropped = [asdict(left) for left in draft.dropped]
    return {
        "segment": draft.segment.name,
        "items": items,
        "dropped": dropped,
        "pins_left_out": [asdict(pin) for pin in unpinned],
        "html": str(html or ""),
    }
