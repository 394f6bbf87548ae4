"""The story index: similarity of two signatures, and LSH buckets that find candidates.

The similarity of two articles is the larger of

- the Jaccard similarity of their salient words (names and numbers, see
  :mod:`digest.intake.signatures`), scaled by how close in time they were published: in
  full within 24 hours, falling to half at 72 hours; and
- the estimated Jaccard similarity of their word triples (a copy, whatever its headline).

Articles published more than 72 hours apart are never the same story. Candidates come
from the LSH band keys of the salient words' MinHash (48 bands of 3 rows), so that each
article is compared with a handful of others rather than with all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from digest.intake.signatures import Keys, Signature

WINDOW_HOURS = 72.0
FULL_HOURS = 24.0


def freshness(hours: float) -> float:
    """How much shared names count at ``hours`` apart: 1 up to 24 h, ½ at 72 h, then 0."""
    if hours <= FULL_HOURS:
        return 1.0
    if hours > WINDOW_HOURS:
        return 0.0
    return 1.0 - 0.5 * (hours - FULL_HOURS) / (WINDOW_HOURS - FULL_HOURS)


def similarity(a: Signature, b: Signature, threshold: float = 1.0) -> float:
    """How much ``a`` and ``b`` look like one story (0–1).

    The wording is compared only when the names alone stay below ``threshold`` but reach
    half of it: a copy shares its names too, so below that it cannot be one.
    """
    weight = freshness(abs(a.published - b.published) / 3600)
    if not weight:
        return 0.0
    story = a.same_names(b) * weight
    if story >= threshold or story < threshold / 2:
        return story
    return max(story, a.same_wording(b))


class StoryIndex:
    """Signatures with their stories, found through shared LSH band keys.

    Articles go in and are matched in batches, so that finding the candidates of a whole
    batch is a few sorted-array searches (numpy), and only the comparison of each article
    with its handful of candidates is Python.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._signatures: list[Signature | None] = []
        self._stories: list[int] = []
        self._ids: list[int] = []
        self._chunks: list[_Chunk] = []

    @property
    def size(self) -> int:
        """How many articles were indexed: the slot the next one gets."""
        return len(self._signatures)

    def extend(
        self, sigs: Sequence[Signature], keys: Keys, stories: Sequence[int], ids: Sequence[int]
    ) -> None:
        """Index articles whose stories are known."""
        base = len(self._signatures)
        self._signatures.extend(sigs)
        self._stories.extend(stories)
        self._ids.extend(ids)
        self._chunks.append(_Chunk.of(keys, base, sigs))

    def forget(self, slots: Sequence[int]) -> None:
        """Stop matching the articles in ``slots`` (their text changed, say)."""
        for slot in slots:
            self._signatures[slot] = None

    def assign(self, sigs: Sequence[Signature], keys: Keys, own: Sequence[int]) -> list[int]:
        """The story of each article, in order: that of its most similar indexed or earlier
        article at or above the threshold, else ``own`` (the article's id). On a tie, an
        article indexed before this batch wins over one of the batch, then the earlier
        published, then the smaller id: so the result does not depend on the order in which
        the index was filled. The articles are indexed as they are assigned."""
        base = len(self._signatures)
        batch = _Chunk.of(keys, base, sigs)
        pairs = [_pairs(batch, chunk) for chunk in self._chunks]
        inside = _pairs(batch, batch)
        pairs.append(inside[:, inside[1] < inside[0] + base])  # only earlier ones
        joined = np.concatenate(pairs, axis=1)
        found = np.unique((joined[0] << 32) | joined[1])  # by row, then by slot
        bounds = np.searchsorted(found >> 32, np.arange(len(sigs) + 1)).tolist()
        candidates = (found & 0xFFFFFFFF).tolist()
        stories = []
        for i, sig in enumerate(sigs):
            best, best_score, best_key = None, 0.0, (True, 0.0, 0)
            for slot in candidates[bounds[i] : bounds[i + 1]]:
                other = self._signatures[slot]
                if other is None:
                    continue
                score = similarity(sig, other, self.threshold)
                if score < self.threshold or score <= 0.0:
                    continue
                key = (slot >= base, other.published, self._ids[slot])
                if best is None or score > best_score or (score == best_score and key < best_key):
                    best, best_score, best_key = slot, score, key
            story = own[i] if best is None else self._stories[best]
            stories.append(story)
            self._signatures.append(sig)
            self._stories.append(story)
            self._ids.append(own[i])
        self._chunks.append(batch)
        return stories

    def forget_before(self, published: float) -> None:
        """Drop the batches that no article published at ``published`` or later can match."""
        cutoff = published - WINDOW_HOURS * 3600
        for chunk in [c for c in self._chunks if c.newest < cutoff]:
            self._chunks.remove(chunk)
            self._signatures[chunk.first : chunk.first + chunk.size] = [None] * chunk.size


@dataclass(frozen=True)
class _Chunk:
    keys: Keys  # sorted band keys of a batch of articles
    slots: npt.NDArray[np.int64]  # the article (slot) of each key
    first: int
    size: int
    newest: float

    @classmethod
    def of(cls, keys: Keys, base: int, sigs: Sequence[Signature]) -> _Chunk:
        flat = keys.ravel()
        slots = np.repeat(np.arange(base, base + len(keys), dtype=np.int64), keys.shape[1])
        kept = flat != 0
        flat, slots = flat[kept], slots[kept]
        order = np.argsort(flat, kind="stable")
        newest = max((s.published for s in sigs), default=0.0)
        return cls(flat[order], slots[order], base, len(keys), newest)


def _pairs(batch: _Chunk, chunk: _Chunk) -> npt.NDArray[np.int64]:
    """(row in ``batch``, slot in ``chunk``) for every shared key: shape (2, n).

    The batch's keys are searched in their sorted order, which keeps successive binary
    searches in the same part of the chunk's keys: for a batch of 8,000 articles (384,000
    keys) about eight times faster than searching them in the articles' order."""
    flat = batch.keys
    low = np.searchsorted(chunk.keys, flat, side="left")
    high = np.searchsorted(chunk.keys, flat, side="right")
    counts = high - low
    total = int(counts.sum())
    if not total:
        return np.zeros((2, 0), dtype=np.int64)
    hit = np.flatnonzero(counts)
    ends = np.cumsum(counts[hit])
    offsets = np.arange(total) - np.repeat(ends - counts[hit], counts[hit])
    positions = np.repeat(low[hit], counts[hit]) + offsets
    rows = batch.slots[hit] - batch.first
    return np.stack((np.repeat(rows, counts[hit]), chunk.slots[positions]))
