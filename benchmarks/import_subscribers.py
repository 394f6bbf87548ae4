"""Time `digest subscribers import` on a million-row CSV, twice, into a fresh store.

    python benchmarks/import_subscribers.py [--rows 1000000] [--database-url URL]

It writes the CSV (email, name, lists, time zone, locale, tags and two custom columns, over
2,000 domains) in a temporary folder, then runs the command itself through ``digest.cli.main``
on a fresh SQLite store (or an empty PostgreSQL database given by ``--database-url``): first
into the empty store (all added), then the same file again (all unchanged). It prints rows a
second, seconds and peak RSS; the last line is one JSON object. The goal is 60 s at most.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from digest.cli import main

ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
LOCALES = ("en-GB", "de-DE", "en-US", "ja-JP", "fr-FR")
TAGS = ("politics", "tech", "science", "culture", "sport", "climate", "world", "business")
LISTS = ("daily", "weekly", "tech-weekly")


def write_csv(path: Path, rows: int) -> None:
    chance = random.Random(6)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "lists", "timezone", "locale", "tags", "plan", "team"])
        for n in range(rows):
            writer.writerow(
                [
                    f"reader.{n}@mail{n % 2000}.example.com",
                    f"Reader {n}",
                    ";".join(chance.sample(LISTS, chance.randint(1, 2))),
                    ZONES[n % len(ZONES)],
                    LOCALES[n % len(LOCALES)],
                    ";".join(chance.sample(TAGS, chance.randint(0, 3))),
                    ("free", "pro")[n % 2],
                    f"team-{n % 17}",
                ]
            )


def timed_import(config: Path, data: Path) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds of one import, and its summary line."""
    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        main(["subscribers", "import", "--config", str(config), str(data)])
    return time.perf_counter() - started, time.process_time() - cpu, out.getvalue().strip()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(rows: int, database_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        data = base / "subscribers.csv"
        write_csv(data, rows)
        url = database_url or f"sqlite:///{base / 'digest.db'}"
        config = base / "digest.toml"
        config.write_text(
            f"[digest]\ndatabase_url = {json.dumps(url)}\n"
            '[sender]\nemail = "digest@desk.example"\npostal_address = "1 Harbour Street"\n'
            'base_url = "https://desk.example/digest"\n[segments.all]\nsubject = "News"\n',
            encoding="utf-8",
        )
        size = data.stat().st_size
        first, first_cpu, first_line = timed_import(config, data)
        print(first_line, file=sys.stderr)
        first_rss = peak_rss_mb()
        second, second_cpu, second_line = timed_import(config, data)
        print(second_line, file=sys.stderr)
    return {
        "rows": rows,
        "database": url.split(":", 1)[0],
        "file_mb": round(size / 1e6, 1),
        "first_seconds": round(first, 2),
        "first_rows_per_s": round(rows / first),
        "first_cpu_seconds": round(first_cpu, 2),
        "second_seconds": round(second, 2),
        "second_rows_per_s": round(rows / second),
        "second_cpu_seconds": round(second_cpu, 2),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mb_after_first": round(first_rss),
        "peak_rss_mb": round(peak_rss_mb()),
        "goal_seconds": 60,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="An empty database (default SQLite).")
    args = parser.parse_args()
    result = run(args.rows, args.database_url)
    print(
        f"first import: {result['first_seconds']} s ({result['first_rows_per_s']} rows/s); "
        f"second: {result['second_seconds']} s ({result['second_rows_per_s']} rows/s); "
        f"peak RSS {result['peak_rss_mb']} MB; CPU {result['first_cpu_seconds']} s and "
        f"{result['second_cpu_seconds']} s at load average {result['load_average']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    cli()
