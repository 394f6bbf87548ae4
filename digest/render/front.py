"""The edition's front page: what the templates get to lay it out.

The first item is the lead story (a larger headline, its image, a longer summary); the
others follow, in sections by tag when the segment names some (``sections``), with an
"In this edition" list linking to each story from :data:`CONTENTS_FROM` items (more
than five).

Dates are days, never times: an edition is rendered once for all its readers (DESIGN
decision 2), whatever their time zones, so a story is dated by the weekday it was
published on in the newsroom's time zone when that is within the week before the edition
("Tuesday"), else by its date ("17 November"), and the masthead by the edition's day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from digest.compose.edition import DraftItem

CONTENTS_FROM = 6  # an "In this edition" list from this many items
MORE = "More stories"  # the title of the items no section takes


@dataclass(frozen=True)
class Section:
    title: str  # "" for the one untitled section of an edition without sections
    anchor: str
    items: tuple[dict[str, Any], ...]


def day_label(moment: datetime, edition_day: date, zone: ZoneInfo) -> str:
    """The day ``moment`` fell on, as the edition of ``edition_day`` names it."""
    day = moment.astimezone(zone).date()
    if 0 <= (edition_day - day).days < 7:
        return f"{day:%A}"
    if day.year == edition_day.year:
        return f"{day.day} {day:%B}"
    return f"{day.day} {day:%B %Y}"


def edition_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}"


def image_of(item: DraftItem, mode: str, lead: bool) -> dict[str, Any] | None:
    """The item's image as the templates show it, or None (``images`` says where there
    are images; an item without one, or an address that is not https, has none)."""
    image = item.image
    if image is None or mode == "none" or (mode == "lead" and not lead):
        return None
    if not image.url.startswith("https://"):
        return None
    width, height = image.width, image.height
    return {
        "url": image.url,
        "alt": " ".join(image.alt.split()),
        "ratio": height / width if width and height else None,
    }


def item_context(
    item: DraftItem, number: int, edition_day: date, zone: ZoneInfo, images: str
) -> dict[str, Any]:
    local = item.published.astimezone(zone)
    lead = number == 1
    return {
        "number": number,
        "anchor": f"story-{number}",
        "lead": lead,
        "title": item.title,
        "url": item.url,
        "source": item.source,
        "author": item.author,
        "summary": item.summary,
        "tags": item.tags,
        "day_label": day_label(item.published, edition_day, zone),
        # as earlier templates showed it, with the zone (a newsroom's own templates)
        "published_label": f"{local.day} {local:%b %Y, %H:%M %Z}",
        "cta": f"Read at {item.source}" if item.source else "Read the story",
        "also": [{"outlet": outlet, "url": url} for outlet, url in item.also],
        "image": item.image,  # the contract's: url, alt, width, height; or None
        "picture": image_of(item, images, lead),  # the image shown here, as ``images`` says
    }


def front_page(
    items: Sequence[DraftItem],
    titles: dict[str, str],
    edition_day: date,
    zone: ZoneInfo,
    images: str,
) -> tuple[dict[str, Any] | None, list[Section]]:
    """The lead story and the sections after it, each item numbered in the order shown."""
    if not items:
        return None, []
    grouped = sections_of(items[1:], titles)
    number = iter(range(1, len(items) + 1))
    lead = item_context(items[0], next(number), edition_day, zone, images)
    sections = [
        Section(
            title,
            anchor,
            tuple(item_context(i, next(number), edition_day, zone, images) for i in members),
        )
        for title, anchor, members in grouped
    ]
    return lead, sections


def sections_of(
    rest: Sequence[DraftItem], titles: dict[str, str]
) -> list[tuple[str, str, list[DraftItem]]]:
    """``rest`` (the items after the lead) in sections (title, anchor, items): one per tag
    of ``titles``, in its order, each item under the first of them whose tag it has, in
    the edition's order; then the others under :data:`MORE`. Without ``titles``, or when
    no item falls in a named section, one untitled section."""
    if not rest:
        return []
    if not titles:
        return [("", "stories", list(rest))]
    placed: dict[str, list[DraftItem]] = {tag: [] for tag in titles}
    others: list[DraftItem] = []
    for item in rest:
        tag = next((t for t in titles if t in item.tags), None)
        (placed[tag] if tag is not None else others).append(item)
    sections = [
        (titles[tag], f"section-{n}", members)
        for n, (tag, members) in enumerate(placed.items(), start=1)
        if members
    ]
    if others:
        sections.append((MORE, "section-more", others))
    if len(sections) == 1 and sections[0][0] == MORE:
        return [("", "stories", others)]
    return sections
