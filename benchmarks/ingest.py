"""Ingest speed: 10,000 feed entries from local files into SQLite, parse to clusters.

    python benchmarks/ingest.py [--entries 10000] [--feeds 20] [--days 14]

Writes ``--feeds`` feed files (RSS 2.0, Atom and JSON Feed in turn) into a temporary
folder, with the synthetic wire's reports (benchmarks/synthetic_news.py) as entries: HTML
paragraphs with a photo caption and a "Read more" promo, categories, an author, links
with tracking parameters, and one entry in twenty repeated from another feed under a
tracked URL. Then ``digest.intake.ingest.ingest_all`` runs over them into a fresh SQLite
store: parse, clean, canonical URLs, dedupe, cluster, store.

Figures: the whole ingest (target: at most 10 s on this 2-core machine; the process's CPU
time is shown beside the wall time, which other work on a shared machine inflates), and
side by side in the same run: (a) parsing and cleaning the same files alone, the floor
under any ingest; (b) the time spent in clustering; (c) a second ingest of the unchanged
files; (d) reading the stored signatures of every article, against recomputing them from
the stored texts (what each source visit would cost without the signature table). The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from synthetic_news import START, Report, Wire

import digest.intake.ingest as ingest_module
from digest.config import load_config
from digest.intake.cluster import _stored
from digest.intake.feeds import parse_feed
from digest.intake.signatures import signature
from digest.store.database import open_store
from digest.store.models import Article

FORMATS = ("rss", "atom", "json")


def html(report: Report, number: int) -> str:
    body = [f"<p>{escape(p)}</p>" for p in report.paragraphs]
    outlet = escape(report.outlet)
    caption = (
        f'<figure><img src="https://img.example/{number}.jpg" alt="">'
        f"<figcaption>Photo: {outlet} / Staff</figcaption></figure>"
    )
    promo = (
        f'<p><strong>Read more:</strong> <a href="https://{number}.example/">'
        f"More news from {outlet}</a></p>"
    )
    return caption + "".join(body[:2]) + promo + "".join(body[2:])


def tracked(url: str, number: int) -> str:
    return f"{url}?utm_source=rss&utm_medium=feed&utm_campaign=c{number % 7}"


def write_feed(path: Path, kind: str, name: str, items: Sequence[tuple[Report, str, int]]) -> None:
    if kind == "json":
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": name,
            "items": [
                {
                    "id": url,
                    "url": url,
                    "title": r.title,
                    "content_html": html(r, n),
                    "date_published": r.published.isoformat(),
                    "authors": [{"name": f"Reporter {n % 40}"}],
                    "tags": [r.outlet, f"topic-{r.story % 12}"],
                }
                for r, url, n in items
            ],
        }
        path.write_text(json.dumps(feed), encoding="utf-8")
        return
    if kind == "rss":
        entries = "".join(
            f"<item><title>{escape(r.title)}</title><link>{escape(url)}</link>"
            f"<guid>{escape(url)}</guid><pubDate>{format_datetime(r.published)}</pubDate>"
            f"<author>reporter{n % 40}@wire.example (Reporter {n % 40})</author>"
            f"<category>{escape(r.outlet)}</category><category>topic-{r.story % 12}</category>"
            f"<description>{escape(html(r, n))}</description></item>"
            for r, url, n in items
        )
        path.write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(name)}</title><link>https://{name}.example/</link>{entries}</channel></rss>",
            encoding="utf-8",
        )
        return
    entries = "".join(
        f'<entry><title>{escape(r.title)}</title><link rel="alternate" href="{escape(url)}"/>'
        f"<id>{escape(url)}</id><published>{r.published.isoformat()}</published>"
        f"<updated>{r.published.isoformat()}</updated>"
        f"<author><name>Reporter {n % 40}</name></author>"
        f'<category term="{escape(r.outlet)}"/><category term="topic-{r.story % 12}"/>'
        f'<content type="html">{escape(html(r, n))}</content></entry>'
        for r, url, n in items
    )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(name)}</title><id>urn:{name}</id><updated>{START.isoformat()}</updated>{entries}</feed>",
        encoding="utf-8",
    )


def write_newsroom(folder: Path, entries: int, feeds: int, days: float) -> list[Path]:
    reports = Wire(seed=11).reports(entries - entries // 20, START, days)
    shares: list[list[tuple[Report, str, int]]] = [[] for _ in range(feeds)]
    for number, report in enumerate(reports):
        shares[number % feeds].append((report, tracked(report.url, number), number))
    for number in range(entries // 20):  # repeated in another feed, under another tracked URL
        report = reports[number * 19 % len(reports)]
        shares[(number * 7 + 3) % feeds].append((report, tracked(report.url, number + 1), number))
    paths, sources = [], []
    for number, items in enumerate(shares):
        kind = FORMATS[number % len(FORMATS)]
        path = folder / f"feed{number:02d}.{'json' if kind == 'json' else 'xml'}"
        write_feed(path, kind, f"wire{number:02d}", items)
        paths.append(path)
        sources.append(f'[sources.wire{number:02d}]\npath = "{path.name}"\n')
    (folder / "digest.toml").write_text(
        '[sender]\nemail = "d@news.example"\npostal_address = "1 Road"\n'
        'base_url = "https://news.example"\n[segments.all]\n' + "".join(sources),
        encoding="utf-8",
    )
    return paths


def timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--days", type=float, default=14.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_newsroom(folder, args.entries, args.feeds, args.days)
        size = sum(p.stat().st_size for p in paths)

        started = time.perf_counter()
        parsed = sum(len(parse_feed(p.read_bytes())[1]) for p in paths)
        parse_seconds = time.perf_counter() - started

        config = load_config(folder / "digest.toml")
        now = START + timedelta(days=args.days + 1)
        clustering: list[float] = []
        ingest_module.assign_clusters = timed(ingest_module.assign_clusters, clustering)
        with open_store(f"sqlite:///{folder / 'digest.db'}") as store:
            started, cpu = time.perf_counter(), time.process_time()
            reports = ingest_all_sources(store, config, now)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            visits = len(clustering)
            started = time.perf_counter()
            again = ingest_all_sources(store, config, now)
            again_seconds = time.perf_counter() - started
            with store.session() as session:
                stored = session.scalar(select(func.count()).select_from(Article)) or 0
                stories = session.scalar(select(func.count(func.distinct(Article.cluster_id))))
                since, until = START - timedelta(days=1), now
                started = time.perf_counter()
                stored_ids, _, _, _ = _stored(session, since, until, skip=set())
                read_seconds = time.perf_counter() - started
                started = time.perf_counter()
                rows = session.execute(select(Article.title, Article.text, Article.published_at))
                recomputed = [signature(t, x, p) for t, x, p in rows]
                recompute_seconds = time.perf_counter() - started
    errors = [line for line in reports + again if not line.startswith("ok ")]
    new = sum(int(line.split()[2]) for line in reports if line.startswith("ok "))
    print(f"{len(paths)} feed files, {size / 1e6:.1f} MB, {parsed} entries")
    rate = parsed / seconds
    print(f"ingest: {seconds:.2f} s, {cpu:.2f} s of CPU ({rate:,.0f} entries a second)")
    print(f"  {new} new, {stored} stored")
    print(f"  {stories} stories; clustering {sum(clustering):.2f} s in {visits} source visits")
    share = parse_seconds / seconds
    print(f"  parse and clean alone: {parse_seconds:.2f} s ({share:.0%} of the ingest's time)")
    print(f"second ingest of the unchanged files: {again_seconds:.2f} s")
    print(
        f"signatures of {len(stored_ids)} stored articles: read {read_seconds:.2f} s,"
        f" recomputed from text {recompute_seconds:.2f} s ({recompute_seconds / read_seconds:.1f}x)"
    )
    for line in errors:
        print(line)
    print(
        json.dumps(
            {
                "entries": parsed,
                "feeds": len(paths),
                "megabytes": round(size / 1e6, 2),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "target_seconds": 10,
                "entries_per_second": round(parsed / seconds),
                "new": new,
                "stored": stored,
                "stories": stories,
                "cluster_seconds": round(sum(clustering), 3),
                "parse_clean_seconds": round(parse_seconds, 2),
                "second_ingest_seconds": round(again_seconds, 2),
                "signatures_read_seconds": round(read_seconds, 3),
                "signatures_recompute_seconds": round(recompute_seconds, 3),
                "recomputed": len(recomputed),
                "errors": len(errors),
            }
        )
    )


def ingest_all_sources(store: Any, config: Any, now: Any) -> list[str]:
    return [r.line for r in ingest_module.ingest_all(store, config, now)]


if __name__ == "__main__":
    sys.exit(main())
