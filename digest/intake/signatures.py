"""What clustering compares: an article's salient words, and a sketch of its wording.

Two reports of one story by different outlets share few phrases but many names and
numbers; a syndicated copy shares its phrases. So each article gets two signatures:

- ``salient``: the hashed set of its names (see :func:`salient_tokens`) and numbers.
  Compared exactly (Jaccard), and MinHashed into LSH band keys to find candidates.
- ``sketch``: the bottom-k MinHash sketch (k = 64) of its word triples, which estimates
  how much of its wording two texts share (Jaccard of word triples).

Tokens are hashed with CRC-32, and MinHash's hash functions are MurmurHash3's finaliser
seeded with constants derived from BLAKE2b, so signatures are the same on every run,
machine and library version, and can be stored.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
import numpy.typing as npt

VERSION = 1  # bump when anything below changes: stored signatures are then recomputed
SKETCH_SIZE = 64
FEW = 4  # names and numbers below which a text is known by its words
BANDS, ROWS = 48, 3  # LSH on the salient set: a pair at Jaccard 0.4 is found 96 % of the time
TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*")
PIECE = re.compile(r"(\W*)(\w+(?:['’.,]\w+)*)")  # (what precedes a token, the token)
STOPS = frozenset('.!?:;"“”\n')
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
THOUSANDS = re.compile(r",(?=\d{3}(?:\D|$))")
_COMMON_WORDS = """
    a an the and or but if then so of in on at to for from by with as is are was were be
    been being has have had do does did not no nor it its this that these those he she they
    we you i his her their our your my me him them us who whom which what when where why how
    than too very can could will would shall should may might must also just only more most
    such into over under after before about against between during through up down out off
    again once here there all any both each few other some own same now new said says say
    mr mrs ms dr sir monday tuesday wednesday thursday friday saturday sunday january
    february march april june july august september october november december while since
    until because though although however yet one two three four five six seven eight nine
    ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty
    thirty forty fifty sixty seventy eighty ninety hundred thousand million billion first
    second third last next many much well even still today yesterday tomorrow according
    read more photo image video watch listen updated published share"""
COMMON = frozenset(_COMMON_WORDS.split())
Keys = npt.NDArray[np.uint64]


def _constants(label: str, count: int) -> Keys:
    """Fixed 64-bit constants (not a random generator's, whose stream may change)."""
    digests = (
        hashlib.blake2b(f"{label}:{i}".encode(), digest_size=8).digest() for i in range(count)
    )
    return np.array([int.from_bytes(d, "little") for d in digests], dtype=np.uint64)


_SEEDS = _constants("minhash", BANDS * ROWS)  # one hash function (permutation) each
_ROW_MIX = _constants("band-row", ROWS) | np.uint64(1)
_BAND_SALT = _constants("band", BANDS)
_TRIPLE = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)


@dataclass(frozen=True)
class Signature:
    names: bytes  # the salient words' hashes: sorted uint32, little-endian
    published: float  # seconds since the epoch
    text: str = field(default="", repr=False, compare=False)  # to make the sketch when asked
    stored_sketch: bytes | None = field(default=None, repr=False, compare=False)

    @cached_property
    def salient(self) -> frozenset[int]:
        return frozenset(np.frombuffer(self.names, dtype="<u4").tolist())

    @cached_property
    def sketch(self) -> bytes:
        """Bottom-k sketch of the word triples: sorted uint32 values, little-endian."""
        if self.stored_sketch is not None:
            return self.stored_sketch
        return sketch_of(TOKEN.findall(self.text))

    @cached_property
    def _sketch_values(self) -> frozenset[int]:
        return frozenset(np.frombuffer(self.sketch, dtype="<u4").tolist())

    def same_wording(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two texts' word triples."""
        left, right = self._sketch_values, other._sketch_values
        union = sorted(left | right)[:SKETCH_SIZE]
        return sum(1 for v in union if v in left and v in right) / len(union) if union else 0.0

    def same_names(self, other: Signature) -> float:
        """Jaccard similarity of the two salient sets."""
        shared = len(self.salient & other.salient)
        union = len(self.salient) + len(other.salient) - shared
        return shared / union if union else 0.0


def signature(title: str, text: str, published: datetime) -> Signature:
    """The signature of an article; its sketch is made from ``text`` when first needed."""
    hashes = sorted({_hash(t) for t in salient_tokens(title, text, published.year)})
    return Signature(np.array(hashes, dtype="<u4").tobytes(), published.timestamp(), text)


def salient_tokens(title: str, text: str, year: int) -> set[str]:
    """Names and numbers of a text, and the numbers of its title.

    A name is a capitalised word never used in lower case in the text, found inside a
    sentence or starting a sentence as the first of several capitalised words ("Katrin
    Lindqvist said", not "Critics said"); possessive 's is dropped. Title-case headlines
    say nothing about names, so only the title's numbers count. A text with fewer than
    :data:`FEW` names and numbers (a short teaser, a notice) is known by its longer
    lower-case words instead, so that its near-copies still find it.
    """
    pieces = PIECE.findall(text)
    numbers = NUMBER.findall(text) + NUMBER.findall(title)
    found = {n for n in map(_number, numbers, [year] * len(numbers)) if n}
    lower = {w for _, w in pieces if w[0].islower()}
    lower |= {w[:-2] for w in lower if w.endswith(("'s", "’s"))}
    capitals = [i for i, (_, w) in enumerate(pieces) if w[0].isupper()]
    inside = {i for i in capitals if i and STOPS.isdisjoint(pieces[i][0])}
    named = {_name(pieces[i][1]) for i in capitals if i in inside or (i + 1 in inside)}
    found |= {n for n in named if len(n) > 1 and n not in COMMON and n not in lower}
    if len(found) < FEW:
        found |= {w for w in lower if len(w) > 4 and w not in COMMON}
    return found


def _name(word: str) -> str:
    return word[:-2].lower() if word.endswith(("'s", "’s")) else word.lower()


def _number(word: str, year: int) -> str:
    plain = THOUSANDS.sub("", word).replace(",", ".")
    if plain.count(".") > 1:
        return ""
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    if "." not in plain and (len(plain) < 2 or plain == str(year)):
        return ""
    return "#" + plain


def band_keys(signatures: Sequence[Signature]) -> Keys:
    """The LSH band keys of each signature's salient set: one row per signature, all
    computed at once. A signature with no salient word gets a row of zeros (no key)."""
    keys = np.zeros((len(signatures), BANDS), dtype=np.uint64)
    for start in range(0, len(signatures), 2000):  # bounds the (tokens × hashes) matrix
        part = signatures[start : start + 2000]
        sizes = np.fromiter((len(s.names) // 4 for s in part), dtype=np.int64, count=len(part))
        filled = np.flatnonzero(sizes)
        if not len(filled):
            continue
        joined = b"".join(s.names for s in part)
        values = np.frombuffer(joined, dtype="<u4").astype(np.uint64)
        starts = np.concatenate(([0], np.cumsum(sizes[filled])[:-1]))
        mins = np.minimum.reduceat(_mix(values[:, None] ^ _SEEDS[None, :]), starts, axis=0)
        mins = mins.reshape(len(filled), BANDS, ROWS)
        banded = (mins * _ROW_MIX[None, None, :]).sum(axis=2, dtype=np.uint64) ^ _BAND_SALT
        keys[start + filled] = banded | np.uint64(1)  # never zero
    return keys


def _mix(x: Keys) -> Keys:
    """MurmurHash3's 64-bit finaliser, in place: each seed makes an independent hash."""
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


_WORD_HASHES: dict[str, int] = {}


def _hash(token: str) -> int:
    value = _WORD_HASHES.get(token)
    if value is None:
        value = zlib.crc32(token.encode("utf-8"))
        if len(_WORD_HASHES) < 500_000:
            _WORD_HASHES[token] = value
    return value


def sketch_of(words: Sequence[str]) -> bytes:
    """The bottom-k MinHash sketch of the word triples of ``words``."""
    if not words:
        return b""
    hashed = np.fromiter((_hash(w.lower()) for w in words), dtype=np.uint64, count=len(words))
    if len(hashed) >= 3:
        hashed = hashed[:-2] * _TRIPLE[0] + hashed[1:-1] * _TRIPLE[1] + hashed[2:] * _TRIPLE[2]
    smallest = np.unique(hashed >> np.uint64(32))[:SKETCH_SIZE]
    return smallest.astype("<u4").tobytes()
