"""Story clustering: quality on the labelled set, and speed and memory on 100,000 articles.

    python benchmarks/cluster.py [--articles 100000] [--days 30] [--sample 2000]

1. The threshold sweep: pairwise precision, recall and F1 of ``cluster_entries`` on the
   labelled stories in tests/data/stories, for thresholds from 0.15 to 0.60.
2. Scale: ``--articles`` synthetic reports (benchmarks/synthetic_news.py) published over
   ``--days`` days, clustered at the default threshold; wall time, peak resident memory
   of the process (``resource.getrusage``), and pairwise quality against the synthetic
   stories.
3. Baseline, side by side: on the first ``--sample`` articles, the LSH index against a
   naive comparison of every pair with the same similarity and the same joining rule;
   their times, the extrapolation of the naive one to all articles (quadratic), and how
   many of the naive clustering's same-story pairs the index also finds.

Targets: 100,000 articles in at most 30 s and 1 GB. Wall time is shown with the CPU time
of the process beside it, which other work on a shared machine does not inflate. The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from stories import load_stories, pairwise_quality  # noqa: E402
from synthetic_news import START, Wire  # noqa: E402

from digest.intake.cluster import cluster_entries  # noqa: E402
from digest.intake.entries import Entry  # noqa: E402
from digest.intake.signatures import signature  # noqa: E402
from digest.intake.story_index import similarity  # noqa: E402
from digest.settings import IntakeSettings  # noqa: E402

SWEEP = [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6]


def sweep() -> list[dict[str, float]]:
    labelled = load_stories()
    entries, stories = [a.entry for a in labelled], [a.story for a in labelled]
    rows = []
    print(f"labelled set: {len(labelled)} articles, {len(set(stories))} stories")
    print("threshold  precision  recall  F1     pairs found / true")
    for threshold in SWEEP:
        q = pairwise_quality(stories, cluster_entries(entries, threshold))
        print(
            f"{threshold:9.2f}  {q.precision:9.3f}  {q.recall:6.3f}  {q.f1:.3f}"
            f"  {q.found_pairs} / {q.true_pairs}"
        )
        rows.append(
            {"threshold": threshold, "precision": q.precision, "recall": q.recall, "f1": q.f1}
        )
    return rows


def pair_quality(truth: Sequence[int], found: Sequence[int]) -> tuple[float, float]:
    """Pairwise precision and recall by counting, for large sets."""

    def pairs(counts: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter(zip(truth, found, strict=True)))
    found_pairs, true_pairs = pairs(Counter(found)), pairs(Counter(truth))
    return both / found_pairs if found_pairs else 1.0, both / true_pairs if true_pairs else 1.0


def all_pairs(entries: Sequence[Entry], threshold: float) -> list[int]:
    """The naive baseline: every earlier article compared, same similarity, same rule."""
    order = sorted(range(len(entries)), key=lambda i: (entries[i].published, i))
    sigs = {i: signature(entries[i].title, entries[i].text, entries[i].published) for i in order}  # type: ignore[arg-type]
    labels = list(range(len(entries)))
    done: list[int] = []
    for i in order:
        best, best_score = None, threshold
        for j in done:
            score = similarity(sigs[i], sigs[j], threshold)
            if score > best_score or (best is None and score >= best_score):
                best, best_score = j, score
        labels[i] = i if best is None else labels[best]
        done.append(i)
    first: dict[int, int] = {}
    for position, label in enumerate(labels):
        first.setdefault(label, position)
    return [first[label] for label in labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    threshold = IntakeSettings().cluster_threshold
    rows = sweep()

    reports = Wire().reports(args.articles, START, args.days)
    entries = [Entry(r.url, r.title, r.published, "", (), r.text, "") for r in reports]
    truth = [r.story for r in reports]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    labels = cluster_entries(entries, threshold)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    precision, recall = pair_quality(truth, labels)
    print(
        f"\n{len(entries)} synthetic articles over {args.days:g} days, threshold {threshold}:"
        f" {seconds:.1f} s ({cpu:.1f} s of CPU; {len(entries) / seconds:,.0f} a second),"
        f" {len(set(labels))} stories"
        f" (true {len(set(truth))}); pairwise precision {precision:.3f}, recall {recall:.3f}"
    )
    print(f"peak RSS {peak:.0f} MB (before clustering {rss_before:.0f} MB, corpus included)")

    sample = entries[: args.sample]
    started = time.perf_counter()
    indexed = cluster_entries(sample, threshold)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    naive = all_pairs(sample, threshold)
    naive_seconds = time.perf_counter() - started
    agreement, index_recall = pair_quality(naive, indexed)
    extrapolated = naive_seconds * (len(entries) / len(sample)) ** 2
    print(
        f"baseline on {len(sample)}: index {index_seconds:.2f} s, all pairs {naive_seconds:.2f} s"
        f" ({naive_seconds / index_seconds:.0f}x); all pairs on {len(entries)} would take about"
        f" {extrapolated / 3600:.1f} h ({extrapolated / seconds:,.0f}x the index);"
        f" the index finds {index_recall:.3f} of the all-pairs same-story pairs"
        f" (and {agreement:.3f} of its pairs are theirs)"
    )
    figures = {
        "articles": len(entries),
        "days": args.days,
        "threshold": threshold,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "articles_per_second": round(len(entries) / seconds),
        "peak_rss_mb": round(peak),
        "rss_before_mb": round(rss_before),
        "synthetic_precision": round(precision, 4),
        "synthetic_recall": round(recall, 4),
        "target_seconds": 30,
        "target_mb": 1024,
        "sample": len(sample),
        "sample_index_seconds": round(index_seconds, 3),
        "sample_all_pairs_seconds": round(naive_seconds, 3),
        "sample_speedup": round(naive_seconds / index_seconds, 1),
        "all_pairs_extrapolated_seconds": round(extrapolated),
        "index_recall_of_all_pairs": round(index_recall, 4),
        "sweep": rows,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
