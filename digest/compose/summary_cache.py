"""Summaries kept in this process, by article and text version, so that an article in many
segments' editions (or in a preview and then the edition) is summarised once.

Only for the default summariser (compose uses it when given none): the key names the
summariser's class, not its options."""

from __future__ import annotations

from collections import OrderedDict
from hashlib import sha256

from digest.compose.summarise import Summariser
from digest.store.models import Article

LIMIT = 50_000  # summaries kept; the least recently used goes first

_cache: OrderedDict[tuple[str, int, str, int], str] = OrderedDict()


def summary(summariser: Summariser, article: Article, words: int) -> str:
    """``summariser``'s summary of the article, computed once per text version and budget."""
    version = article.content_hash or sha256(article.text.encode("utf-8")).hexdigest()
    key = (type(summariser).__qualname__, article.id, version + article.title, words)
    found = _cache.get(key)
    if found is not None:
        _cache.move_to_end(key)
        return found
    made = summariser.summarise(article.title, article.text, words)
    _cache[key] = made
    if len(_cache) > LIMIT:
        _cache.popitem(last=False)
    return made


def clear() -> None:
    _cache.clear()
