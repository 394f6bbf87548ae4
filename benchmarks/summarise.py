"""Summary quality and speed: Digest against LEAD-3 and sumy's TextRank, side by side.

    python benchmarks/summarise.py ../shared/data/bbc100 [--held-out sport,tech] [--repeat 5]
        [--newsroom examples/newsroom]

DIR has the bbc100 layout: ``article/<topic>/NNN.txt`` (title on the first line, then one
sentence per line, paragraphs separated by blank lines) and ``summary/<topic>/NNN.txt`` (the
reference).  Every output is cut to its first 60 words and scored with rouge-score
(``use_stemmer=True``, F1) against the reference; the table is printed for all topics and for
the held-out topics, which played no part in choosing Digest's constants.

Speed is articles per second in this one process, every system given the same pre-split
sentences (splitting excluded), each timed over all articles ``--repeat`` times, best run
kept.  ``digest+split`` is Digest again, splitting the joined text itself.  sumy (the ``bench``
extra) gets a document built from the same sentences and a regular-expression word tokenizer,
since its own tokenizer needs NLTK data; TextRank keeps 3 sentences, with sumy's English stop
words and stemmer.

Beside ROUGE each system gets its *lead coverage* (of the articles whose first sentence is a
reporting sentence, the share of outputs that contain it) and its *dangling-opening rate* (the
share of outputs whose opening sentence points at text the reader never sees: a pronoun, a
connective, an unnamed reference or an unattributed quote; :mod:`digest.compose.openings`,
with the title as what the reader has seen).  Both are also measured on the example
newsroom's articles (its feeds, as intake parses them), which have no reference summaries.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from digest.compose.openings import dangling, is_reporting, opening
from digest.compose.sentences import split_paragraphs, split_sentences
from digest.compose.summarise import CentralitySummariser
from digest.intake.feeds import parse_feed

CUT = 60
SUMY_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


@dataclass(frozen=True)
class Article:
    topic: str
    title: str
    paragraphs: list[list[str]]
    reference: str

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)


class WordTokenizer:
    """sumy's tokenizer interface without NLTK: sentences are given, words by a regex."""

    language = "english"

    def to_sentences(self, paragraph: str) -> list[str]:
        return [paragraph]

    def to_words(self, sentence: str) -> list[str]:
        return SUMY_WORD.findall(sentence)


def load(folder: Path) -> list[Article]:
    articles = []
    for path in sorted((folder / "article").glob("*/*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        paragraphs: list[list[str]] = [[]]
        for line in lines[1:]:
            if line.strip():
                paragraphs[-1].append(line.strip())
            elif paragraphs[-1]:
                paragraphs.append([])
        reference = folder / "summary" / path.parent.name / path.name
        articles.append(
            Article(
                path.parent.name,
                lines[0].strip(),
                [p for p in paragraphs if p],
                reference.read_text(encoding="utf-8", errors="replace"),
            )
        )
    return articles


def load_newsroom(folder: Path) -> list[Article]:
    """The example newsroom's articles as intake parses its feeds (no reference summary)."""
    articles = []
    for feed in sorted((folder / "feeds").glob("*")):
        for entry in parse_feed(feed.read_bytes())[1]:
            articles.append(Article(feed.stem, entry.title, split_paragraphs(entry.text), ""))
    return articles


def systems() -> dict[str, Callable[[Article], str]]:
    digest = CentralitySummariser()
    tokenizer = WordTokenizer()
    textrank = TextRankSummarizer(Stemmer("english"))
    textrank.stop_words = get_stop_words("english")

    def sumy_textrank(a: Article) -> str:
        document = ObjectDocumentModel(
            [Paragraph([Sentence(s, tokenizer) for s in p]) for p in a.paragraphs]
        )
        return " ".join(str(s) for s in textrank(document, 3))

    return {
        "digest": lambda a: digest.summarise_paragraphs(a.title, a.paragraphs, CUT),
        "digest+split": lambda a: digest.summarise(a.title, a.text, CUT),
        "lead3": lambda a: " ".join([s for p in a.paragraphs for s in p][:3]),
        "textrank": sumy_textrank,
    }


def rouge(articles: Sequence[Article], outputs: Sequence[str]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"r1": 0.0, "r2": 0.0, "rl": 0.0}
    for article, output in zip(articles, outputs, strict=True):
        score = scorer.score(article.reference, " ".join(output.split()[:CUT]))
        totals["r1"] += score["rouge1"].fmeasure
        totals["r2"] += score["rouge2"].fmeasure
        totals["rl"] += score["rougeL"].fmeasure
    return {k: round(v / max(len(articles), 1), 4) for k, v in totals.items()}


def lead_and_openings(
    articles: Sequence[Article], outputs: Sequence[str]
) -> dict[str, float | int]:
    """Lead coverage: of the articles whose first sentence reports the story
    (:func:`~digest.compose.openings.is_reporting`), the share whose output contains it.
    Dangling rate: the share of outputs whose opening points at text the reader never sees
    (:func:`~digest.compose.openings.dangling`, with the title as what the reader has seen)."""
    reporting = covered = dangles = 0
    for article, output in zip(articles, outputs, strict=True):
        lead = article.paragraphs[0][0] if article.paragraphs else ""
        if lead and is_reporting(lead):
            reporting += 1
            covered += lead in output
        first = opening(output, split_sentences(output))
        dangles += bool(output) and dangling(first, article.title) is not None
    return {
        "leads": reporting,
        "lead_coverage": round(covered / max(reporting, 1), 4),
        "dangling": round(dangles / max(len(articles), 1), 4),
    }


def speed(run: Callable[[Article], str], articles: Sequence[Article], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for article in articles:
            run(article)
        best = min(best, time.perf_counter() - start)
    return round(len(articles) / best, 1)


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--held-out", default="sport,tech", help="Topics not used for tuning.")
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per system.")
    parser.add_argument(
        "--newsroom",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "examples" / "newsroom",
        help="A newsroom folder whose feeds/ also get lead coverage and dangling openings.",
    )
    args = parser.parse_args(argv)
    articles = load(args.folder)
    if not articles:
        sys.exit(f"no articles under {args.folder / 'article'}: give a folder in bbc100 layout")
    held_out = {t for t in args.held_out.split(",") if t}
    outputs = {name: [run(a) for a in articles] for name, run in systems().items()}
    speeds = {name: speed(run, articles, args.repeat) for name, run in systems().items()}
    kept = [i for i, a in enumerate(articles) if a.topic in held_out]
    figures: dict[str, object] = {"articles": len(articles), "held_out": sorted(held_out)}
    print(f"{len(articles)} articles; held out: {', '.join(sorted(held_out)) or 'none'}")
    print(
        f"{'system':<14}{'R1':>7}{'R2':>7}{'RL':>7}  {'held-out R1':>11}{'R2':>7}{'RL':>7}"
        f"{'articles/s':>12}{'lead':>7}{'dangling':>9}"
    )
    for name, out in outputs.items():
        every = rouge(articles, out)
        held = rouge([articles[i] for i in kept], [out[i] for i in kept])
        shape = lead_and_openings(articles, out)
        figures[name] = {
            "all": every,
            "held_out": held,
            "articles_per_s": speeds[name],
            **shape,
        }
        print(
            f"{name:<14}{every['r1']:>7.3f}{every['r2']:>7.3f}{every['rl']:>7.3f}  "
            f"{held['r1']:>11.3f}{held['r2']:>7.3f}{held['rl']:>7.3f}{speeds[name]:>12.1f}"
            f"{shape['lead_coverage']:>7.1%}{shape['dangling']:>9.1%}"
        )
    newsroom = load_newsroom(args.newsroom) if (args.newsroom / "feeds").is_dir() else []
    if newsroom:
        print(f"\nexample newsroom: {len(newsroom)} articles")
        print(f"{'system':<14}{'lead':>7}{'dangling':>9}")
        for name, run in systems().items():
            shape = lead_and_openings(newsroom, [run(a) for a in newsroom])
            figures[name]["newsroom"] = shape  # type: ignore[index]
            print(f"{name:<14}{shape['lead_coverage']:>7.1%}{shape['dangling']:>9.1%}")
    figures["speedup_vs_textrank"] = round(speeds["digest"] / speeds["textrank"], 2)
    figures["speedup_with_split_vs_textrank"] = round(
        speeds["digest+split"] / speeds["textrank"], 2
    )
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
