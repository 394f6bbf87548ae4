"""A sample edition to render templates with: made-up items that exercise every part of a
template (a lead with an image, more than five items, an author, "also covered by", an
editor's note), and a bare one (one item, nothing optional)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from digest.compose.edition import Draft, DraftItem
from digest.settings import SegmentSettings

SAMPLE_TIME = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SAMPLE_NOTE = "A note from the editors, with **emphasis** and [a link](https://example.org/)."
SAMPLE_ARCHIVE = "https://newsroom.example/digest/archive/{segment}/2026-11-26"
TOPICS = ("politics", "technology")
_STORIES = (
    ("Council approves the riverside housing plan after a year of talks", "City Wire"),
    ("Regional rail fares to rise by 4% in January", "Transport Desk"),
    ("New library opens in the old tram depot", "City Wire"),
    ("Hospital trust names its new chief executive", "Health Bulletin"),
    ("University spin-off raises £12m for battery recycling", "Tech Wire"),
    ("Schools get more time to replace ageing heating systems", "Education Weekly"),
    ("Weekend road closures for the marathon", "Transport Desk"),
)


@dataclass(frozen=True)
class SampleImage:
    """What an item's ``image`` holds: an https address, its alt text and its size."""

    url: str
    alt: str
    width: int | None
    height: int | None


def _item(number: int, title: str, source: str) -> DraftItem:
    slug = "-".join(title.lower().split()[:4])
    return DraftItem(
        article_id=number,
        title=title,
        url=f"https://news.example/{slug}",
        source=source,
        author="Sam Writer" if number % 2 else "",
        published=SAMPLE_TIME - timedelta(hours=number),
        tags=(TOPICS[number % 2],),
        summary=(
            f"{title}. The decision follows months of consultation, and those affected "
            "say they will watch closely how it is carried out over the coming year."
        ),
        score=1.0 / number,
        parts={"recency": 1.0},
        reason="sample",
        also=(("The Other Paper", f"https://other.example/{slug}"),) if number == 1 else (),
    )


def with_image(item: DraftItem, image: SampleImage) -> DraftItem:
    """``item`` carrying ``image``, where items carry images at all."""
    if "image" not in {f.name for f in fields(DraftItem)}:
        return item
    change: dict[str, Any] = {"image": image}
    return replace(item, **change)


def sample_image(number: int) -> SampleImage:
    return SampleImage(
        url=f"https://images.news.example/{number}.png",
        alt=f"Photograph for story {number}",
        width=1200,
        height=675,
    )


def sample_draft(segment: SegmentSettings, *, full: bool) -> Draft:
    """A full edition (every item with an image, a note) or a bare one (one item)."""
    stories = _STORIES if full else _STORIES[:1]
    items = tuple(_item(n, title, source) for n, (title, source) in enumerate(stories, 1))
    if full:
        items = tuple(with_image(item, sample_image(n)) for n, item in enumerate(items, 1))
    return Draft(
        segment=segment,
        items=items,
        since=SAMPLE_TIME - timedelta(days=1),
        composed_at=SAMPLE_TIME,
        note=SAMPLE_NOTE if full else "",
    )
