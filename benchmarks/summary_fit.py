"""Fit the summariser's two constants, and check them on topics they were not fitted on.

    python benchmarks/summary_fit.py ../shared/data/bbc100 [--tune business,entertainment,politics]

``digest.compose.summary_score`` turns a unit's standardised centrality ``z`` into the chance
``1 / (1 + exp(-(SLOPE * z + OFFSET)))`` that an extractive reference keeps it.  This script
fits SLOPE and OFFSET by logistic regression (Newton's method, a small L2 penalty) on the
``--tune`` topics, then on every leave-one-topic-out split, and scores each fit's summaries
on the topics left out (ROUGE at 60 words, as in ``benchmarks/summarise.py``).  The last line
is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from summarise import CUT, Article, load, rouge

from digest.compose.summarise import pick
from digest.compose.summary_score import FLOOR, centrality, content_words, standardise
from digest.compose.summary_units import Unit, candidate_units

Example = tuple[list[Unit], list[float], list[float]]  # units, standard scores, labels


def examples(article: Article) -> Example:
    units = candidate_units(article.title, article.paragraphs)
    z = standardise(centrality([content_words(u.text) for u in units]))
    kept = {line.strip() for line in article.reference.splitlines() if line.strip()}
    labels = []
    for unit in units:
        parts = [s for p in article.paragraphs for s in p if s in unit.text]
        labels.append(sum(s in kept for s in parts) / max(len(parts), 1))
    return units, z, labels


def fit(data: Sequence[Example], penalty: float = 1.0) -> tuple[float, float]:
    """Logistic regression of the label on (z, 1): the (slope, offset) of least loss."""
    slope = offset = 0.0
    for _ in range(25):
        g1 = g0 = h11 = h10 = h00 = 0.0
        for _, zs, labels in data:
            for z, y in zip(zs, labels, strict=True):
                p = 1.0 / (1.0 + math.exp(-(slope * z + offset)))
                w = p * (1.0 - p)
                g1, g0 = g1 + (p - y) * z, g0 + (p - y)
                h11, h10, h00 = h11 + w * z * z, h10 + w * z, h00 + w
        g1, g0, h11, h00 = g1 + penalty * slope, g0 + penalty * offset, h11 + penalty, h00 + penalty
        det = h11 * h00 - h10 * h10
        slope -= (h00 * g1 - h10 * g0) / det
        offset -= (h11 * g0 - h10 * g1) / det
    return round(slope, 2), round(offset, 2)


def summaries(data: Sequence[Example], slope: float, offset: float) -> list[str]:
    out = []
    for units, zs, _ in data:
        chance = [1.0 / (1.0 + math.exp(-(slope * z + offset))) for z in zs]
        chance = [c if c >= FLOOR else 0.0 for c in chance]
        out.append(" ".join(u.text for u in pick(units, chance, CUT)))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tune", default="business,entertainment,politics")
    args = parser.parse_args(argv)
    articles = load(args.folder)
    if not articles:
        sys.exit(f"no articles under {args.folder / 'article'}: give a folder in bbc100 layout")
    data = [examples(a) for a in articles]
    topics = sorted({a.topic for a in articles})
    tune = set(args.tune.split(","))
    splits = {"tune " + "+".join(sorted(tune)): tune}
    splits.update({f"without {t}": set(topics) - {t} for t in topics})
    figures: dict[str, object] = {}
    folds: list[dict[str, float]] = []
    print(f"{'fitted on':<36}{'SLOPE':>7}{'OFFSET':>8}   held-out R1     R2     RL")
    for name, fitted in splits.items():
        slope, offset = fit([d for a, d in zip(articles, data, strict=True) if a.topic in fitted])
        held = [i for i, a in enumerate(articles) if a.topic not in fitted]
        scores = rouge(
            [articles[i] for i in held], summaries([data[i] for i in held], slope, offset)
        )
        figures[name] = {"slope": slope, "offset": offset, "held_out": scores}
        if name.startswith("without "):
            folds.append(scores)
        print(
            f"{name:<36}{slope:>7.2f}{offset:>8.2f}   {scores['r1']:>11.3f}"
            f"{scores['r2']:>7.3f}{scores['rl']:>7.3f}"
        )
    mean = {k: round(sum(f[k] for f in folds) / len(folds), 4) for k in ("r1", "r2", "rl")}
    figures["leave_one_topic_out_mean"] = mean
    label = "mean of leave-one-topic-out"
    print(f"{label:<51}{mean['r1']:>11.3f}{mean['r2']:>7.3f}{mean['rl']:>7.3f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
