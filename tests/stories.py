"""The labelled story set in tests/data/stories, and pairwise precision and recall on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path

from digest.intake.entries import Entry

STORIES = Path(__file__).parent / "data" / "stories"


@dataclass(frozen=True)
class Labelled:
    story: str
    kind: str  # report, copy or distractor
    outlet: str
    entry: Entry


def load_stories(folder: Path = STORIES) -> list[Labelled]:
    """Every labelled article, in file order (files sorted by name)."""
    articles: list[Labelled] = []
    for path in sorted(folder.glob("*.txt")):
        blocks = path.read_text(encoding="utf-8").split("\n## ")
        for block in blocks:
            if block.strip():
                articles.append(_article(block.removeprefix("## "), path.name))
    return articles


def _article(block: str, where: str) -> Labelled:
    head, _, body = block.partition("\n\n")
    story, *fields = head.splitlines()
    meta = dict(line.split(": ", 1) for line in fields)
    missing = {"kind", "outlet", "url", "published", "title"} - set(meta)
    if missing or not body.strip():
        raise ValueError(f"{where}: article {story!r} lacks {sorted(missing) or 'a body'}")
    text = "\n\n".join(p.strip() for p in body.strip().split("\n\n"))
    entry = Entry(
        url=meta["url"],
        title=meta["title"],
        published=datetime.fromisoformat(meta["published"]),
        author="",
        tags=(),
        text=text,
        html="",
    )
    return Labelled(story.strip(), meta["kind"], meta["outlet"], entry)


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    true_pairs: int
    found_pairs: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pairwise_quality(stories: Sequence[str], clusters: Sequence[int]) -> Quality:
    """Precision and recall over pairs: a pair is found when both share a cluster."""
    same = found = both = 0
    for (s1, c1), (s2, c2) in combinations(zip(stories, clusters, strict=True), 2):
        same += s1 == s2
        found += c1 == c2
        both += s1 == s2 and c1 == c2
    return Quality(both / found if found else 1.0, both / same if same else 1.0, same, found)
