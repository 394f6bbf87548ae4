"""What intake makes of one feed entry, before it is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

TAG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    published: datetime | None
    author: str
    tags: tuple[str, ...]
    text: str
    html: str
    raw_tags: tuple[str, ...] = field(default=())


def normalise_tag(tag: str) -> str:
    """Lower case, dots dropped, other runs of punctuation and space made one hyphen.

    >>> normalise_tag("U.S. Politics")
    'us-politics'
    """
    return TAG_JUNK.sub("-", tag.lower().replace(".", "")).strip("-")
