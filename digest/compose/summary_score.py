"""How likely each unit is to belong in a summary: its centrality in the article.

A unit's *centrality* is the sum of its cosine similarities to every other unit, each unit
seen as the set of its content words (lowercased, stop words removed, not stemmed): a
sentence that shares its words with much of the article says what the article is about.
Across the units of one article the centralities are standardised (mean 0, deviation 1), and
a logistic curve turns the standard score ``z`` into the chance that an editor's extract
would keep the unit::

    chance = 1 / (1 + exp(-(SLOPE * z + OFFSET)))

The two constants were fitted by logistic regression on the extractive reference summaries of
three topics of the BBC benchmark (business, entertainment, politics) and checked on the two
others (sport, tech); refitted on each leave-one-topic-out split they stay between 2.7 and 3.1
and between -0.65 and -0.57 (``benchmarks/summary_fit.py``).  Stemming, a lead bonus, sentence
length, title overlap and a penalty for quotations were measured as extra features and did not
help on held-out topics; a floor under which a unit is not worth its words (5 %) did.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SLOPE = 2.8
OFFSET = -0.6
FLOOR = 0.05  # a unit less likely than this is never added just to fill the budget
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
STOP_WORDS = _words(
    """a about above after again against ain all am an and any are aren aren't as at be because
    been before being below between both but by can couldn couldn't d did didn didn't do does
    doesn doesn't doing don don't down during each few for from further had hadn hadn't has hasn
    hasn't have haven haven't having he her here hers herself him himself his how i if in into
    is isn isn't it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my
    myself needn needn't no nor not now o of off on once only or other our ours ourselves out
    over own re s same shan shan't she she's should should've shouldn shouldn't so some such t
    than that that'll the their theirs them themselves then there these they this those through
    to too under until up ve very was wasn wasn't we were weren weren't what when where which
    while who whom why will with won won't wouldn wouldn't y you you'd you'll you're you've your
    yours yourself yourselves"""
)


def content_words(text: str) -> frozenset[str]:
    """The distinct content words of ``text``, lowercased."""
    words = WORD.findall(text.lower().replace("’", "'"))
    return frozenset(w for w in words if w not in STOP_WORDS)


def centrality(terms: Sequence[frozenset[str]]) -> list[float]:
    """For each set of words, the sum of its cosine similarities to all the others."""
    scores = [0.0] * len(terms)
    sizes = [math.sqrt(len(t)) for t in terms]
    for i, left in enumerate(terms):
        if not left:
            continue
        for j in range(i + 1, len(terms)):
            shared = len(left & terms[j])
            if shared:
                similarity = shared / (sizes[i] * sizes[j])
                scores[i] += similarity
                scores[j] += similarity
    return scores


def standardise(values: Sequence[float]) -> list[float]:
    """Standard scores (mean 0, deviation 1); all zero when the values do not vary."""
    if not values:
        return []
    mean = sum(values) / len(values)
    deviation = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if deviation < 1e-12:
        return [0.0] * len(values)
    return [(v - mean) / deviation for v in values]


def chances(texts: Sequence[str]) -> list[float]:
    """The chance that each text belongs in the summary of the article they make up.

    Chances under ``FLOOR`` are 0: such a unit is only picked when nothing else fits.
    """
    z = standardise(centrality([content_words(t) for t in texts]))
    return [_chance(SLOPE * s + OFFSET) for s in z]


def _chance(logit: float) -> float:
    chance = 1.0 / (1.0 + math.exp(-logit))
    return chance if chance >= FLOOR else 0.0
