"""The email's HTML size against Gmail's clip: a 20-item edition, now and at a baseline.

    python benchmarks/email_size.py [--items 20] [--baseline main]

Renders one synthetic edition of ``--items`` items (60-word summaries, one "also covered
by" link on every third item, an image on every item, shown on the lead story) with the
bundled templates (and once more with ``images = "all"``, thumbnails on every item), and the
same edition with the email templates of the git revision ``--baseline`` (taken with
``git show`` into a temporary folder and used as the user's templates folder, so the same
render code runs both). Prints the HTML bytes of each, the bytes per item (the difference
between the edition and a one-item edition, divided by the items after the first), the
text part's bytes, the time of a render, and the ratio of each figure to the baseline's.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.compose.edition import Draft, DraftItem  # noqa: E402
from digest.render.email import Identity, Rendered, render  # noqa: E402
from digest.settings import SegmentSettings  # noqa: E402
from digest.store.images import Image  # noqa: E402

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SENTENCE = (
    "Officials said on Tuesday that the regional council approved the plan after a long "
    "debate over costs, schedules and the share paid by neighbouring towns, while critics "
    "warned that the timetable left little room for the consultation promised last spring "
    "and asked for an independent review of the figures before any contract is signed"
)
WORDS = SENTENCE.split(" ")
TAGS = ("politics", "europe", "business", "world")
TEMPLATES = ("digest.mjml.j2", "_item.mjml.j2", "_footer.mjml.j2", "digest.txt.j2")


def item(n: int) -> DraftItem:
    made = DraftItem(
        article_id=n,
        title=f"Council approves the harbour plan after a long debate, number {n}",
        url=f"https://news.example/2026/11/council-approves-harbour-plan-{n}/",
        source="The Talking Democrat" if n % 2 else "Civic Wire",
        author="Andrei Santov",
        published=NOW - timedelta(hours=3 * n),
        tags=(TAGS[n % len(TAGS)],),
        summary=" ".join(WORDS[:60]) + ".",
        score=1.0,
        parts={},
        reason="",
        also=(("TechWire", f"https://techwire.example/2026/11/{n}/"),) if n % 3 == 0 else (),
        image=Image(f"https://news.example/images/{n}.jpg", "Cranes over the harbour", 1200, 675),
    )
    return made


def draft(count: int, images: str = "lead") -> Draft:
    segment = SegmentSettings(
        name="politics-daily", title="Politics Daily", archive=True, images=images
    )
    return Draft(segment, tuple(item(n) for n in range(1, count + 1)), None, NOW)


def measure(count: int, templates: Path | None, images: str = "lead") -> dict[str, float]:
    identity = Identity("The Newsroom Digest", "12 Fleet Street, London", ZoneInfo("Europe/London"))
    url = "https://news.example/archive/politics-daily/2026-11-26/"
    full: Rendered = render(draft(count, images), identity, templates, archive_url=url)
    one = render(draft(1, images), identity, templates, archive_url=url)
    started = time.perf_counter()
    runs = 20
    for _ in range(runs):
        render(draft(count, images), identity, templates, archive_url=url)
    elapsed = (time.perf_counter() - started) / runs
    size = len(full.html.encode("utf-8"))
    return {
        "items": len(full.items),
        "html_bytes": size,
        "per_item_bytes": (size - len(one.html.encode("utf-8"))) / max(1, count - 1),
        "text_bytes": len(full.text.encode("utf-8")),
        "render_ms": elapsed * 1000,
    }


def baseline_templates(revision: str, folder: Path) -> Path:
    email = folder / "email"
    email.mkdir(parents=True)
    for name in TEMPLATES:
        source = subprocess.run(
            ["git", "show", f"{revision}:templates/email/{name}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        (email / name).write_bytes(source)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--baseline", default="main")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = measure(args.items, baseline_templates(args.baseline, Path(tmp)))
    now = measure(args.items, None)
    print(f"{args.items}-item edition       {'now':>10} {args.baseline:>10}  ratio")
    result: dict[str, object] = {"items": args.items, "baseline": args.baseline}
    for key in ("html_bytes", "per_item_bytes", "text_bytes", "render_ms"):
        ratio = now[key] / base[key] if base[key] else 0.0
        print(f"{key:24} {now[key]:10.1f} {base[key]:10.1f}  {ratio:.2f}")
        result[key] = round(now[key], 1)
        result[f"baseline_{key}"] = round(base[key], 1)
        result[f"{key}_ratio"] = round(ratio, 3)
    thumbnails = measure(args.items, None, images="all")
    print(f"{'html_bytes, images=all':24} {thumbnails['html_bytes']:10.1f}")
    result["html_bytes_images_all"] = thumbnails["html_bytes"]
    print(f"Gmail clips at about 102,000 bytes; margin now {102_000 - now['html_bytes']:.0f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
