"""Composing speed: the next editions of 100 segments over 10,000 candidate articles.

    python benchmarks/compose.py [--articles 10000] [--segments 100]

A SQLite store in a temporary folder gets ``--articles`` articles from 40 sources, published
over the last three days, each with two or three of 24 tags, a few sentences of text, and
one in five in a story cluster with another. Each segment includes three of the tags, keeps
10 items, and has ``max_per_source = 3``. Every segment is composed in one process:
cold (summaries made) and warm (summaries from the per-article cache), both from one
:class:`~digest.compose.pool.Pool` read for the run; then, side by side, the baseline of
one read per segment, and a warm run that also spells out every left-out candidate's
reason. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.compose import summary_cache
from digest.compose.edition import compose
from digest.compose.pool import Pool
from digest.settings import SegmentSettings
from digest.store.database import open_store
from digest.store.models import Article, ArticleTag, Source

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TAGS = [f"topic-{n}" for n in range(24)]
WORDS = [
    "council",
    "vote",
    "budget",
    "river",
    "storm",
    "market",
    "team",
    "trial",
    "court",
    "plan",
    "city",
    "water",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."


def fill(url: str, articles: int, rng: random.Random) -> None:
    with open_store(url) as store, store.session() as session:
        sources = [Source(name=f"s{n}", location=f"https://s{n}.example/") for n in range(40)]
        session.add_all(sources)
        session.flush()
        for n in range(1, articles + 1):
            text = "\n\n".join(
                " ".join(sentence(rng) for _ in range(3)) for _ in range(rng.randint(2, 4))
            )
            session.add(
                Article(
                    id=n,
                    source_id=rng.choice(sources).id,
                    url=f"https://news.example/{n}",
                    title=f"Story {n}: {sentence(rng)}",
                    content_hash=f"{n:064x}",
                    cluster_id=n - 1 if n % 5 == 0 else None,
                    published_at=NOW - timedelta(minutes=rng.randint(0, 3 * 24 * 60)),
                    first_seen_at=NOW - timedelta(days=4),
                    text=text,
                    tags=[ArticleTag(tag=t) for t in rng.sample(TAGS, rng.randint(2, 3))],
                )
            )


def run(
    url: str, segments: list[SegmentSettings], *, shared: bool = True, explain: bool = False
) -> tuple[float, int]:
    """Seconds to compose every segment, and the items composed. ``shared``: one
    :class:`Pool` read for all segments, as ``digest run`` does; otherwise one per segment
    (as ``digest preview`` does for its one segment). ``explain``: also work out every
    left-out candidate's reason, as a preview shows them."""
    items = 0
    with open_store(url) as store, store.session() as session:
        start = time.perf_counter()
        pool = Pool.load(session, segments, NOW) if shared else None
        for segment in segments:
            draft = compose(session, segment, NOW, pool=pool)
            items += len(draft.items)
            if explain:
                assert len(draft.dropped) + len(draft.items) >= len(draft.considered)
        return time.perf_counter() - start, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    segments = [
        SegmentSettings(name=f"seg{n}", include_tags=tuple(rng.sample(TAGS, 3)), max_per_source=3)
        for n in range(args.segments)
    ]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        fill(url, args.articles, rng)
        summary_cache.clear()
        cold, items = run(url, segments)
        warm, _ = run(url, segments)
        apart, _ = run(url, segments, shared=False)
        explained, _ = run(url, segments, explain=True)
    print(f"{args.segments} segments over {args.articles} articles: {items} items")
    print(f"cold (summaries made)                  {cold:.2f} s")
    print(f"warm (summaries cached)                {warm:.2f} s")
    print(f"baseline: a read per segment, warm     {apart:.2f} s  ({apart / warm:.1f}x slower)")
    print(f"warm, every left-out reason spelled    {explained:.2f} s")
    figures = {
        "segments": args.segments,
        "articles": args.articles,
        "items": items,
        "cold_seconds": round(cold, 3),
        "warm_seconds": round(warm, 3),
        "read_per_segment_seconds": round(apart, 3),
        "ratio_read_per_segment_to_shared": round(apart / warm, 2),
        "explained_seconds": round(explained, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
