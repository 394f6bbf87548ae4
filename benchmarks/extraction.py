"""Extraction quality: article text from news pages, scored against ground truth.

Scored the way the scrapinghub article-extraction-benchmark scores article bodies: each
text becomes a multiset of 4-token shingles; per page, true positives, false positives
and false negatives are counted and normalised by their sum; precision and recall are
averaged over pages and F1 is their harmonic mean. Bag of words (1-token shingles) is
reported too. Two sets of pages, each scored on its own (see extraction_pages.py):
benchmarks/data/pages, article bodies of plain paragraphs in eight CMS-like templates, and
benchmarks/data/shapes, the same bodies in the shapes real pages give them (lists, tables,
link-dense paragraphs, inline markup without whitespace, bodies split across containers,
reprint and paywall notices). Both are built for this project, not the public benchmark,
so the figures are comparable with each other but not with published ones.

Systems:
  trafilatura            trafilatura.extract(html, include_comments=False), as that
                         benchmark runs it
  trafilatura-precision  the same with favor_precision=True
  digest                 Digest's pipeline: extract_page (trafilatura, favor_recall)
                         then the cleaner, as page sources and teaser feeds store it

    python benchmarks/extraction.py [--pages FOLDER]...
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import trafilatura

from digest.intake.pages import PageError, extract_page, page_entry

DATA = Path(__file__).resolve().parent / "data"
FOLDERS = (DATA / "pages", DATA / "shapes")  # clean templates; the shapes of real pages
TOKEN = re.compile(r"\w+")
Counts = tuple[float, float, float]  # tp, fp, fn, normalised per page


def shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def match(truth: str, predicted: str, n: int = 4) -> Counts:
    true, pred = shingles(truth, n), shingles(predicted, n)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(counts: list[Counts]) -> dict[str, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def trafilatura_default(html: str, url: str) -> str:
    return trafilatura.extract(html, include_comments=False) or ""


def trafilatura_precision(html: str, url: str) -> str:
    return trafilatura.extract(html, include_comments=False, favor_precision=True) or ""


def digest_pipeline(html: str, url: str) -> str:
    try:
        return page_entry(extract_page(html, url), url).text
    except PageError:
        return ""


SYSTEMS: dict[str, Callable[[str, str], str]] = {
    "trafilatura": trafilatura_default,
    "trafilatura-precision": trafilatura_precision,
    "digest": digest_pipeline,
}


def run(folder: Path) -> dict[str, object]:
    """Score every system on the pages of ``folder``; print a table and return the figures."""
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    by_system: dict[str, dict[str, list[Counts]]] = defaultdict(lambda: defaultdict(list))
    words: dict[str, list[Counts]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    for page in index:
        html = (folder / f"{page['name']}.html").read_text(encoding="utf-8")
        truth = (folder / f"{page['name']}.txt").read_text(encoding="utf-8")
        for name, system in SYSTEMS.items():
            start = time.perf_counter()
            text = system(html, page["url"])
            seconds[name] += time.perf_counter() - start
            counts = match(truth, text)
            by_system[name]["all"].append(counts)
            by_system[name][page["style"]].append(counts)
            words[name].append(match(truth, text, n=1))
    styles = sorted({p["style"] for p in index})
    print(f"{folder.name}: {len(index)} pages, {len(styles)} page styles or shapes")
    print(f"{'system':<22} {'precision':>9} {'recall':>7} {'F1':>6} {'F1 words':>9} {'ms/page':>8}")
    figures: dict[str, object] = {"pages": len(index), "styles": len(styles)}
    for name in SYSTEMS:
        s, w = scores(by_system[name]["all"]), scores(words[name])
        per_page = 1000 * seconds[name] / len(index)
        print(
            f"{name:<22} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
            f"{w['f1']:>9.3f} {per_page:>8.1f}"
        )
        figures[name] = {
            **{k: round(v, 4) for k, v in s.items()},
            "f1_words": round(w["f1"], 4),
            "precision_words": round(w["precision"], 4),
            "recall_words": round(w["recall"], 4),
            "ms_per_page": round(per_page, 1),
            "by_style": {
                style: {k: round(v, 4) for k, v in scores(by_system[name][style]).items()}
                for style in styles
            },
        }
    ours, base = scores(by_system["digest"]["all"]), scores(by_system["trafilatura"]["all"])
    print(
        "digest / trafilatura: "
        + ", ".join(f"{k} {ours[k] / base[k]:.3f}" for k in ("precision", "recall", "f1"))
    )
    print("precision / recall by page style or shape:")
    for style in styles:
        cells = "  ".join(
            "{precision:.3f}/{recall:.3f}".format(**scores(by_system[name][style]))
            for name in SYSTEMS
        )
        print(f"  {style:<15} {cells}   ({', '.join(SYSTEMS)})")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pages", type=Path, action="append", help="a folder of pages (default: both sets)"
    )
    args = parser.parse_args(argv)
    print("4-token shingles as scrapinghub; precision/recall/F1 averaged over pages")
    figures = {folder.name: run(folder) for folder in args.pages or FOLDERS}
    print(json.dumps({"benchmark": "extraction", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
