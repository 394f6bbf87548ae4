"""Canonical URLs, so that one article reached by several URLs is stored once."""

from __future__ import annotations


def canonical_url(url: str, declared: str = "") -> str:
    """The URL under which an article is stored: ``declared`` (its rel=canonical) when given."""
    return (declared or url).strip()
