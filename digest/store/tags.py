"""Tags in one spelling: normalised, then mapped through the configured synonyms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

JUNK = re.compile(r"[^\w]+")


def normalise_tag(tag: str) -> str:
    """Lower case, dots dropped, other runs of punctuation and space made one hyphen.

    >>> normalise_tag("U.S. Politics")
    'us-politics'
    """
    return JUNK.sub("-", tag.lower().replace(".", "")).strip("-_")


def normalise_tags(
    raw: Iterable[str], synonyms: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Each tag normalised and mapped through ``synonyms`` (whose keys are normalised too)."""
    table = {normalise_tag(k): normalise_tag(v) for k, v in (synonyms or {}).items()}
    out = (table.get(t, t) for t in (normalise_tag(r) for r in raw))
    return tuple(dict.fromkeys(t for t in out if t))
