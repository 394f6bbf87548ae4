"""Article bodies in the shapes real pages give them, for the extraction benchmark.

The page styles of page_styles.py wrap plain paragraphs; real bodies are less tidy.
Each shape here rewrites one article the way real pages do, and says which text the
reader sees as the article (the ground truth):

  list     a bulleted or numbered list inside the body (qualified teams, a feature list,
           steps to take), its items short and often without a full stop, sometimes
           linked, sometimes at the very end of the body
  table    a data table with a header row inside the body
  links    paragraphs dense with inline links: market tickers, named companies and people
  inline   markup without whitespace between elements: spaces inside the tags, adjacent
           links, sentence spans, a line break, a paragraph cut mid-sentence into a block
           of its own (a metered page's cut), the browser breaking the line there
  split    the body split across several containers, with adverts and promos between them
  notice   a reprint or paywall notice around a whole article

The first four become the markup of a :class:`Story` placed in one of the page styles;
``split`` and ``notice`` are page layouts of their own (:data:`LAYOUTS`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape

from page_chrome import ADS, Chrome, Story, comment_items, head, nav_list, related_items

LISTS = (
    (
        "Qualified teams",
        "These are the teams that have qualified for the finals so far:",
        ("Argentina", "Brazil", "Ecuador", "Uruguay", "Colombia", "Paraguay"),
        "ul",
    ),
    (
        "What is new",
        "The main changes in the new model are:",
        (
            "A brighter 6.3-inch display",
            "Up to 30 hours of battery life",
            "Satellite messaging in 14 countries",
            "USB-C charging at up to 45 watts",
            "A privacy dashboard for every app",
        ),
        "ul",
    ),
    (
        "What to do now",
        "Security researchers advise customers to take four steps:",
        (
            "Check whether your account is on the list the company has published.",
            "Change your password, and any other password that reuses it.",
            "Turn on two-factor authentication wherever it is offered.",
            "Be wary of emails asking you to confirm payment details.",
        ),
        "ol",
    ),
    (
        "Key dates",
        "The plan has taken six years to reach this point:",
        (
            "2019: the scheme is first proposed by the regional council",
            "2021: parliament approves the first tranche of funding",
            "2023: construction begins on the northern section",
            "2025: the first trains run on a test track",
        ),
        "ol",
    ),
    (
        "The candidates",
        "Four candidates are standing in the by-election:",
        (
            "Maria Lopez, Labour",
            "James Reid, Conservative",
            "Aisha Khan, Liberal Democrat",
            "Tom Evans, Green Party",
        ),
        "ul",
    ),
)
TABLES = (
    (
        "Results at a glance",
        ("Party", "Seats", "Change"),
        (
            ("Social Democrats", "112", "+9"),
            ("Conservatives", "98", "-14"),
            ("Greens", "41", "+6"),
            ("Liberals", "23", "-1"),
        ),
    ),
    (
        "Quarterly figures",
        ("Quarter", "Revenue", "Pre-tax profit"),
        (
            ("Q1 2025", "£2.1bn", "£140m"),
            ("Q2 2025", "£2.3bn", "£162m"),
            ("Q3 2025", "£2.2bn", "£98m"),
            ("Q4 2025", "£2.6bn", "£75m"),
        ),
    ),
    (
        "Group standings",
        ("Team", "Played", "Points"),
        (
            ("Rovers", "6", "14"),
            ("United", "6", "11"),
            ("Athletic", "6", "7"),
            ("City", "6", "2"),
        ),
    ),
)
TICKERS = (
    "Shares in {Apple} ({AAPL}) rose 1.2%, while {Microsoft} ({MSFT}) gained 0.8% and "
    "{Alphabet} ({GOOGL}) slipped 0.3%.",
    "In Europe, {BP} ({BP.L}), {Shell} ({SHEL.L}) and {TotalEnergies} ({TTE.PA}) all fell "
    "more than 2% as the price of {Brent crude} dropped.",
    "The {FTSE 100} closed up 0.4% at 8,120 points, the {Dax} rose 0.6% and the "
    "{Cac 40} ended flat.",
    "{Nvidia} ({NVDA}), {AMD} ({AMD}) and {Intel} ({INTC}) led the {Nasdaq} higher.",
)
NAMES = re.compile(r"\b[A-Z][\w'’&.-]*(?: (?:of |the |de |and )?[A-Z][\w'’&.-]*)*")
NOTICES = (
    "This copy is for your personal, non-commercial use only. Distribution and use of this "
    "material are governed by our Subscriber Agreement and by copyright law. For "
    "non-personal use or to order multiple copies, please contact Dow Jones Reprints at "
    "1-800-843-0008 or visit www.djreprints.com.",
    "This copy is for your personal, non-commercial use only. To order presentation-ready "
    "copies for distribution to your colleagues, clients or customers visit "
    "https://www.djreprints.com.",
    "You have read 3 of your 5 free articles this month. Subscribe now for unlimited access "
    "to our journalism from just £1 a week.",
    "This article is for subscribers only. Already a subscriber? Log in to keep reading.",
    "Copyright 2026 Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed without permission.",
)


@dataclass(frozen=True)
class Shaped:
    """An article rewritten into one shape: the story to show and its ground truth."""

    story: Story
    truth: tuple[str, ...]


def _list_slot(rng: random.Random) -> tuple[list[str], list[str]]:
    heading, intro, items, tag = rng.choice(LISTS)
    linked = tag == "ul" and rng.random() < 0.4
    lis = "".join(
        f'<li><a href="/topic/{i}">{escape(t)}</a></li>' if linked else f"<li>{escape(t)}</li>"
        for i, t in enumerate(items)
    )
    slots = [f"<h2>{escape(heading)}</h2>"] if rng.random() < 0.5 else []
    slots += [escape(intro), f"<{tag}>{lis}</{tag}>"]
    truth = ([heading] if slots[0].startswith("<h2>") else []) + [intro, *items]
    return slots, truth


def _table_slot(rng: random.Random) -> tuple[list[str], list[str]]:
    intro, header, rows = rng.choice(TABLES)
    cells = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    return [f"<h2>{escape(intro)}</h2>", table], [intro, " ".join(header)] + [
        " ".join(r) for r in rows
    ]


def _linked(text: str, rng: random.Random) -> str:
    """Every name in ``text`` a link, as business and politics pages do."""
    out, last = [], 0
    for m in NAMES.finditer(text):
        if m.start() == 0 and " " not in m.group(0):
            continue  # a sentence's first word
        out += [escape(text[last : m.start()]), f'<a href="/topic/{rng.randint(1, 999)}">']
        out += [escape(m.group(0)), "</a>"]
        last = m.end()
    return "".join(out) + escape(text[last:])


def _ticker(template: str) -> tuple[str, str]:
    markup = re.sub(
        r"\{([^}]+)\}", lambda m: f'<a href="/quote/{m[1]}">{escape(m[1])}</a>', template
    )
    return markup, re.sub(r"\{([^}]+)\}", r"\1", template)


def _inline(text: str, number: int) -> str:
    """One paragraph's markup with no whitespace between its inline elements."""
    words = text.split(" ")
    if len(words) < 6:
        return escape(text)
    way = number % 5
    if way == 0:  # the space inside the emphasis and the link, none outside
        words[1] = f"<strong>{escape(words[1])} </strong>"
        words[3] = f'<a href="/x">{escape(words[3])} </a>'
        return "".join(w if w.startswith("<") else escape(w) + " " for w in words).strip()
    if way == 1:  # adjacent links, the space at the start of the second
        return (
            " ".join(escape(w) for w in words[:2])
            + f'<a href="/a">{escape(" " + words[2])}</a>'
            + f'<a href="/b">{escape(" " + words[3])}</a>'
            + escape(" " + " ".join(words[4:]))
        )
    if way == 2:  # each sentence in a span, React's empty comments between the pieces
        sentences = re.split(r"(?<=[.!?”]) ", text)
        return "<!-- --> <!-- -->".join(f"<span>{escape(s)}</span>" for s in sentences)
    if way == 3:
        return escape(" ".join(words[:4])) + "<br>" + escape(" ".join(words[4:]))
    # A metered page's cut: the paragraph's first words straight in the container, the
    # rest in a block of its own, no whitespace at the cut (a browser breaks the line).
    cut = len(words) // 2
    return (
        f'<div class="article-text">{escape(" ".join(words[:cut]))}'
        f'<div class="metered-content">{escape(" ".join(words[cut:]))}</div></div>'
    )


def shape_story(story: Story, shape: str, rng: random.Random) -> Shaped:
    """The story in ``shape`` (list, table, links or inline) and its ground truth."""
    paragraphs = list(story.paragraphs)
    slots = [escape(p, quote=False) for p in paragraphs]
    truth = list(paragraphs)
    if shape in ("list", "table"):
        extra, said = _list_slot(rng) if shape == "list" else _table_slot(rng)
        at = len(paragraphs) if rng.random() < 0.4 else rng.randint(1, max(1, len(paragraphs) - 1))
        slots[at:at] = extra
        truth[at:at] = said
    elif shape == "links":
        for i in rng.sample(range(len(paragraphs)), min(2, len(paragraphs))):
            slots[i] = _linked(paragraphs[i], rng)
        markup, text = _ticker(rng.choice(TICKERS))
        at = rng.randint(1, len(paragraphs))
        slots.insert(at, markup)
        truth.insert(at, text)
    elif shape == "inline":
        slots = [_inline(p, i + rng.randint(0, 3)) for i, p in enumerate(paragraphs)]
    return Shaped(replace(story, markup=tuple(slots)), tuple(truth))


def _groups(paragraphs: tuple[str, ...], rng: random.Random) -> list[list[str]]:
    groups: list[list[str]] = []
    rest = list(paragraphs)
    while rest:
        size = rng.randint(1, 3)
        groups.append(rest[:size])
        rest = rest[size:]
    return groups


def _paras(texts: list[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(f"<p{attr}>{escape(t, quote=False)}</p>" for t in texts)


def _between(chrome: Chrome, number: int) -> str:
    """What sits between two parts of a split body: an advert or a promo."""
    if number % 2:
        return f'<div class="ad-unit"><span>{chrome.rng.choice(ADS)}</span></div>'
    headline = chrome.rng.choice(chrome.story.others)[0]
    return (
        f'<div class="inline-related"><span>Read more</span> <a href="/r">{escape(headline)}</a>'
        "</div>"
    )


def _page(story: Story, site: str, chrome: Chrome, article: str) -> str:
    comments = (
        f'<section class="comments"><h2>Comments</h2><ol>{comment_items(chrome)}</ol></section>'
        if chrome.comments
        else ""
    )
    related = (
        f'<aside class="related"><h2>Related</h2><ul>{related_items(chrome)}</ul></aside>'
        if chrome.related
        else ""
    )
    return (
        f"<!DOCTYPE html><html lang='en'>{head(story, site)}<body>"
        f"<header class='site-header'><a href='/'>{site}</a><nav>{nav_list()}</nav></header>"
        f"<main>{article}{related}{comments}</main>"
        f"<footer class='site-footer'><p>© 2026 {site}. All rights reserved.</p>"
        f"{nav_list(('About', 'Contact', 'Privacy', 'Terms'))}</footer></body></html>"
    )


def _title(story: Story) -> str:
    return (
        f"<h1>{escape(story.title)}</h1><p class='byline'>By {escape(story.author)}"
        f" · <time>{story.published[:10]}</time></p>"
    )


def split_columns(story: Story, seed: int) -> str:
    """Paragraphs in several companion columns, adverts and promos between them."""
    site, c = "The Record", Chrome(story, seed, "The Record")
    parts = []
    for n, group in enumerate(_groups(story.paragraphs, c.rng)):
        if n:
            parts.append(_between(c, n))
        parts.append(
            f'<div class="StoryBodyCompanionColumn"><div class="css-53u6y8">{_paras(group)}</div>'
            "</div>"
        )
    body = f'<section name="articleBody" itemprop="articleBody">{"".join(parts)}</section>'
    return _page(story, site, c, f"<article id='story'>{_title(story)}{body}</article>")


def split_blocks(story: Story, seed: int) -> str:
    """Each paragraph in a container of its own, as component-built pages give them."""
    site, c = "Capital Post", Chrome(story, seed, "Capital Post")
    parts = []
    for n, text in enumerate(story.paragraphs):
        if n and c.rng.random() < 0.25:
            parts.append(_between(c, n))
        parts.append(
            '<div class="wpds-c-PJLV article-body" data-qa="article-body">'
            f'<p class="wpds-c-cYdRxM" data-el="text">{escape(text, quote=False)}</p></div>'
        )
    return _page(story, site, c, f"<div class='article'>{_title(story)}{''.join(parts)}</div>")


def split_sections(story: Story, seed: int) -> str:
    """The body in two halves: the first free, the second in a member's container."""
    site, c = "Northern Times", Chrome(story, seed, "Northern Times")
    half = max(1, len(story.paragraphs) // 2)
    first, second = list(story.paragraphs[:half]), list(story.paragraphs[half:])
    body = (
        f'<div class="article-body">{_paras(first)}</div>'
        f"{_between(c, 1)}"
        f'<div class="article-body article-body--member" data-premium="true">{_paras(second)}'
        "</div>"
    )
    return _page(story, site, c, f"<article>{_title(story)}{body}</article>")


def notice_reprint(story: Story, seed: int) -> str:
    """A reprint notice in its own box above the article, as wire-service pages have."""
    site, c = "Market Journal", Chrome(story, seed, "Market Journal")
    notice = NOTICES[seed % 2]
    body = "".join(
        f'<div class="paragraph">{escape(t, quote=False)}</div>' for t in story.paragraphs
    )
    if c.rng.random() < 0.5:  # in a box of its own, or the body's first paragraph
        body = f"<div class='snippet-promotion'><p>{notice}</p></div>{body}"
    else:
        body = f"<p class='reprint-notice'>{notice}</p>{body}"
    article = (
        f"<div class='article-wrap'>{_title(story)}<div class='article-content'>{body}</div></div>"
    )
    return _page(story, site, c, article)


def notice_paywall(story: Story, seed: int) -> str:
    """A metered-paywall notice and a rights line around the article's paragraphs."""
    site, c = "Evening Standard Wire", Chrome(story, seed, "Evening Standard Wire")
    notice = NOTICES[2 + seed % 3]
    where = c.rng.random() < 0.5
    box = f'<div class="meter-notice"><p>{notice}</p></div>'
    article = (
        f"<article>{_title(story)}{box if where else ''}"
        f"<div class='story-body'>{_paras(list(story.paragraphs))}</div>"
        f"{'' if where else f'<p><em>{notice}</em></p>'}</article>"
    )
    return _page(story, site, c, article)


LAYOUTS: dict[str, tuple[str, Callable[[Story, int], str]]] = {
    "split-columns": ("split", split_columns),
    "split-blocks": ("split", split_blocks),
    "split-sections": ("split", split_sections),
    "notice-reprint": ("notice", notice_reprint),
    "notice-paywall": ("notice", notice_paywall),
}
SHAPES = ("list", "table", "links", "inline")
