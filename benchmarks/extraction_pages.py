"""Build the extraction benchmark's pages: real article bodies in varied page chrome.

Bodies come from the example newsroom's 37 feed articles (examples/newsroom/feeds) and
the 100 BBC News articles of shared/data/bbc100 (CC0). Each is wrapped in one of the
styles of page_styles.py; next to each ``NAME.html`` goes ``NAME.txt``, the ground truth:
the article's own paragraphs, without its headline and without the boilerplate that the
source already carried inside the body (tag lines, captions and credits, promos,
newsletter plugs, author bios), which is labelled by hand in NEWSROOM_JUNK below.

The same bodies are built a second time into benchmarks/data/shapes, each in one of the
real-world shapes of page_shapes.py (lists, tables, link-dense paragraphs, inline markup
without whitespace, bodies split across containers, reprint and paywall notices), with
the ground truth that shape gives.

    python benchmarks/extraction_pages.py [BBC100_FOLDER]
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import feedparser
from lxml import html as lxml_html
from page_chrome import Story
from page_shapes import LAYOUTS, SHAPES, shape_story
from page_styles import STYLES

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / "examples" / "newsroom" / "feeds"
OUT = Path(__file__).resolve().parent / "data" / "pages"
SHAPED_OUT = Path(__file__).resolve().parent / "data" / "shapes"
BBC = ROOT.parent / "shared" / "data" / "bbc100"
# Paragraphs (0-based) of newsroom bodies that are not article text, by URL ending.
NEWSROOM_JUNK = {
    "putin-russian-interference-inventions-of-trump-opponents/": {0, 1, 2, 9, 14, 15},
    "helsinki-harbour-library-40000-visitors-first-week": {2, 3},  # caption, credit
    "climate-talks-antalya-overtime-adaptation-finance": {6},  # author bio
    "recount-confirms-212-vote-margin-pennsylvania-state-house-race/": {3},  # promo
    "ukraine-moldova-emergency-power-sharing-deal-winter/": {2, 3},  # caption, credit
    "claimwise-raises-210-million-ai-hospital-billing": {6},  # newsletter plug
    "norvane-vpn-critical-flaw-exploited": {2},  # promo
}
AUTHORS = ("Helen Marsh", "Tomás Ruiz", "Priya Natarajan", "Owen Pryce", "Keiko Sato")


@dataclass(frozen=True)
class Source:
    key: str
    url: str
    title: str
    author: str
    published: str
    section: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]
    junk: frozenset[int]

    @property
    def truth(self) -> str:
        return "\n\n".join(p for i, p in enumerate(self.paragraphs) if i not in self.junk)


def _paragraphs(content: str) -> tuple[str, ...]:
    tree = lxml_html.fromstring(f"<div>{content}</div>")
    texts = (" ".join(p.text_content().split()) for p in tree.iter("p"))
    return tuple(t for t in texts if t)


def newsroom() -> list[Source]:
    out: list[Source] = []
    for path in sorted(FEEDS.iterdir()):
        if path.suffix == ".json":
            items = json.loads(path.read_text(encoding="utf-8"))["items"]
            rows = [
                (i["url"], i["title"], i["authors"][0]["name"], i["date_published"],
                 i.get("tags", []), i["content_html"])
                for i in items
            ]  # fmt: skip
        else:
            entries = feedparser.parse(path.read_bytes()).entries
            rows = [
                (e.link, e.title, e.author, e.get("published", e.get("updated", "")),
                 [t.term for t in e.get("tags", [])], e.content[0].value)
                for e in entries
            ]  # fmt: skip
        for url, title, author, when, tags, content in rows:
            paragraphs = _paragraphs(content)
            junk = next((j for end, j in NEWSROOM_JUNK.items() if url.endswith(end)), set())
            assert all(len(paragraphs[i].split()) < 40 for i in junk), url
            out.append(
                Source(
                    key=f"newsroom-{len(out) + 1:02d}",
                    url=url,
                    title=title,
                    author=author,
                    published=when,
                    section=(tags or ["News"])[0].title(),
                    tags=tuple(tags),
                    paragraphs=paragraphs,
                    junk=frozenset(junk),
                )
            )
    return out


def bbc(folder: Path) -> list[Source]:
    out: list[Source] = []
    for path in sorted(folder.glob("article/*/*.txt")):
        blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        topic, number = path.parent.name, path.stem
        out.append(
            Source(
                key=f"bbc-{topic}-{number}",
                url=f"https://news.example.co.uk/{topic}/2005/{number}",
                title=" ".join(blocks[0].split()),
                author=AUTHORS[len(out) % len(AUTHORS)],
                published=f"2005-0{1 + len(out) % 9}-1{len(out) % 10}T09:00:00+00:00",
                section=topic.title(),
                tags=(topic, "uk"),
                paragraphs=tuple(" ".join(b.split()) for b in blocks[1:]),
                junk=frozenset(),
            )
        )
    return out


def _story(source: Source, others: tuple[tuple[str, str], ...], clean: bool = False) -> Story:
    """The page's story; ``clean``: without the junk the source carried in its body."""
    paragraphs = source.truth.split("\n\n") if clean else source.paragraphs
    return Story(
        title=source.title,
        author=source.author,
        published=source.published,
        section=source.section,
        tags=source.tags,
        url=source.url,
        paragraphs=tuple(paragraphs),
        others=others,
    )


def build_shapes(sources: list[Source], out: Path = SHAPED_OUT) -> int:
    """Each source in one shape, in turn: a body shape inside a page style, or a layout."""
    rng = random.Random(20261204)
    kinds = [*SHAPES, *LAYOUTS]
    styles = [s for s in STYLES if s != "legacy"]  # its body is not made of blocks
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for number, source in enumerate(sources):
        kind = kinds[number % len(kinds)]
        pool = [s for s in sources if s.key != source.key]
        story = _story(
            source, tuple((o.title, o.paragraphs[0]) for o in rng.sample(pool, 10)), True
        )
        if kind in LAYOUTS:
            shape, layout = LAYOUTS[kind]
            html, truth, name = layout(story, number), story.paragraphs, f"{source.key}-{kind}"
        else:
            shaped = shape_story(story, kind, rng)
            style = styles[(number // len(kinds)) % len(styles)]
            html, truth, shape = STYLES[style](shaped.story, number), shaped.truth, kind
            name = f"{source.key}-{kind}-{style}"
        (out / f"{name}.html").write_text(html, encoding="utf-8")
        (out / f"{name}.txt").write_text("\n\n".join(truth) + "\n", encoding="utf-8")
        index.append({"name": name, "style": shape, "url": source.url, "title": source.title})
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return len(index)


def build(bbc_folder: Path = BBC, out: Path = OUT) -> int:
    sources = newsroom() + bbc(bbc_folder)
    rng = random.Random(20261126)
    styles = list(STYLES)
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for number, source in enumerate(sources):
        style = styles[number % len(styles)]
        pool = [s for s in sources if s.key != source.key]
        story = _story(source, tuple((o.title, o.paragraphs[0]) for o in rng.sample(pool, 10)))
        name = f"{source.key}-{style}"
        (out / f"{name}.html").write_text(STYLES[style](story, number), encoding="utf-8")
        (out / f"{name}.txt").write_text(source.truth + "\n", encoding="utf-8")
        index.append({"name": name, "style": style, "url": source.url, "title": source.title})
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return len(index) + build_shapes(sources)


if __name__ == "__main__":
    count = build(Path(sys.argv[1]) if len(sys.argv) > 1 else BBC)
    print(f"wrote {count} pages and their ground truth to {OUT} and {SHAPED_OUT}")
