"""What intake makes of one item of a source, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from digest.store.images import Image


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    published: datetime | None
    author: str
    tags: tuple[str, ...]
    text: str  # cleaned plain text, paragraphs separated by blank lines
    html: str  # sanitised HTML
    raw_tags: tuple[str, ...] = field(default=())
    declared_canonical: str = ""  # the page's <link rel="canonical">, when known
    image: Image | None = None  # the lead image, https only (see digest.intake.images)
    standfirst: str = ""  # the publisher's own summary of the story, plain text
