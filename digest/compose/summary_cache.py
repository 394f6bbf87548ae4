"""Summaries kept in this process, by article and text version, so that an article in many
segments' editions (or in a preview and then the edition) is summarised once.

Only for the default summariser (compose uses it when given none): the key names the
summariser's class, not its options. The text version is the article's content hash and
title; an article without a content hash is summarised afresh each time."""

from __future__ import annotations

from collections import OrderedDict

from digest.compose.candidate import Candidate
from digest.compose.summarise import Summariser

LIMIT = 50_000  # summaries kept; the least recently used goes first

Key = tuple[str, int, str, int]

_cache: OrderedDict[Key, str] = OrderedDict()


def _key(summariser: Summariser, article: Candidate, words: int) -> Key | None:
    if not article.content_hash:
        return None
    version = article.content_hash + article.title
    return (type(summariser).__qualname__, article.id, version, words)


def cached(summariser: Summariser, article: Candidate, words: int) -> str | None:
    """The kept summary of this version of the article, if there is one."""
    return _lookup(_key(summariser, article, words))


def summary(summariser: Summariser, article: Candidate, text: str, words: int) -> str:
    """``summariser``'s summary of the article (whose text is ``text``), made once per text
    version and budget."""
    key = _key(summariser, article, words)
    found = _lookup(key)
    if found is not None:
        return found
    made = summariser.summarise(article.title, text, words)
    if key:
        _cache[key] = made
        if len(_cache) > LIMIT:
            _cache.popitem(last=False)
    return made


def _lookup(key: Key | None) -> str | None:
    found = _cache.get(key) if key else None
    if key and found is not None:
        _cache.move_to_end(key)
    return found


def clear() -> None:
    _cache.clear()
