"""The whole story from the shapes real pages give it, and no caption or notice with it.

The pages are the extraction benchmark's (benchmarks/data/shapes, built by
benchmarks/extraction_pages.py); each ``NAME.txt`` beside a page is its ground truth,
one paragraph, list item or table row a block.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.intake.clean import clean_blocks, clean_paragraphs
from digest.intake.extract import extract_entries
from digest.intake.fetch import Fetcher
from digest.intake.html_text import Block
from digest.intake.pages import extract_page, page_entry
from digest.settings import IntakeSettings

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "benchmarks" / "data" / "shapes"
PAGES = ROOT / "benchmarks" / "data" / "pages"
FEEDS = ROOT / "examples" / "newsroom" / "feeds"


def _text(path: Path) -> str:
    page = extract_page(path.read_bytes(), "https://news.example/story")
    return page_entry(page, "https://news.example/story").text


def _blocks(text: str) -> list[str]:
    return [" ".join(b.replace(" | ", " ").split()) for b in text.split("\n\n") if b.strip()]


@pytest.mark.parametrize(
    ("name", "chrome"),
    [
        ("bbc-business-018-list-amp", "Must Read"),  # a feature list closing the body
        ("bbc-business-009-list-drupal", "Related content"),  # a numbered list inside it
        ("newsroom-10-list-bbc", "More on this story"),  # its items all links
        ("bbc-tech-019-list-bbc", "Related Topics"),  # linked items closing the body
        ("newsroom-31-inline-nextjs", "Recommended"),  # paragraphs cut mid-sentence
        ("newsroom-20-table-arc", "Advertisement"),  # a results table closing the body
        ("bbc-tech-012-links-wordpress", "A file picture"),  # linked names, a market ticker
        ("newsroom-04-inline-wordpress", "Share this"),  # no whitespace between elements
        ("newsroom-07-split-sections", "Advertisement"),  # the body in two containers
        ("bbc-business-005-split-blocks", "All rights reserved"),  # a container a paragraph
        ("bbc-business-004-split-columns", "Read more"),
        ("bbc-business-016-notice-reprint", "This copy is for your personal"),
        ("bbc-business-008-notice-paywall", "Copyright 2026 Associated Press"),
        ("bbc-business-017-notice-paywall", "Copyright 2026 Associated Press"),
    ],
)
def test_every_paragraph_item_and_row_is_kept_and_nothing_around_them(
    name: str, chrome: str
) -> None:
    truth = _blocks((SHAPES / f"{name}.txt").read_text(encoding="utf-8"))
    text = _text(SHAPES / f"{name}.html")
    assert _blocks(text) == truth
    assert chrome not in text
    assert chrome in (SHAPES / f"{name}.html").read_text(encoding="utf-8")  # it was there


def test_the_shapes_are_all_in_the_benchmark() -> None:
    names = [p.stem for p in SHAPES.glob("*.html")]
    for shape in ("list", "table", "links", "inline", "split", "notice"):
        assert sum(f"-{shape}-" in n for n in names) >= 10, shape


def test_a_caption_above_its_credit_stays_out_of_a_feed_article() -> None:
    with Fetcher(IntakeSettings()) as fetcher:
        entries = extract_entries(str(FEEDS / "talking-democrat.xml"), fetcher)
    entry = next(e for e in entries if "Moldova" in e.title)
    assert "Technicians repair a high-voltage line" not in entry.text
    assert "Photo: Jane Doe" not in entry.text
    assert "a joint stockpile of transformers" in entry.text  # the paragraphs around it stay
    assert "“Our systems were built as one" in entry.text


def test_a_pictured_caption_does_not_open_the_article() -> None:
    text = _text(PAGES / "bbc-business-004-wordpress.html")
    assert text.startswith("British Airways has blamed high fuel prices for a 40% drop")
    assert "pictured" not in text


def test_captions_go_and_prose_above_a_credit_stays() -> None:
    body = [
        "The council voted on Tuesday to close the old bridge to all traffic from next month.",
        "Workers inspect the bridge in May.",
        "Photo: Jane Doe/Reuters",
        "Engineers said the steel had corroded beyond repair and could not be saved at all.",
        "The new span pictured from the east bank.",
        "Officials expect the replacement to open in the spring of next year, if funds allow.",
        "A long sentence of the body, which stands right above a credit whose caption was the "
        "image's alt text, is left to its other features.",
        "(Getty Images)",
    ]
    assert clean_paragraphs(body) == [body[0], body[3], body[5], body[6]]


def test_a_list_or_table_that_closes_the_body_is_kept_and_a_rail_of_links_is_not() -> None:
    prose = "The committee said on Monday that the draw would take place in the spring."
    items = [
        Block(prose),
        Block("The teams that have qualified are:"),
        Block("Argentina", tag="li"),
        Block("Brazil", tag="li"),
        Block("Group standings", tag="h2"),
        Block("Rovers | 6 | 14", tag="tr"),
        Block("More from Sport", tag="h2"),
        Block("Cup final moved to Cardiff", tag="li", link_density=1.0),
        Block("Coach leaves after ten years", tag="li", link_density=1.0),
    ]
    kept = clean_blocks(items)
    assert kept == [
        prose,
        "The teams that have qualified are:",
        "Argentina",
        "Brazil",
        "Group standings",
        "Rovers | 6 | 14",
    ]


@pytest.mark.parametrize(
    "notice",
    [
        "This copy is for your personal, non-commercial use only. To order presentation-ready "
        "copies for distribution to your colleagues, clients or customers visit "
        "https://www.djreprints.com.",
        "You have read 3 of your 5 free articles this month. Subscribe now for unlimited "
        "access to our journalism from just £1 a week.",
        "Copyright 2026 Associated Press. All rights reserved. This material may not be "
        "published, broadcast, rewritten or redistributed without permission.",
    ],
)
def test_reprint_and_paywall_notices_go_and_the_article_stays(notice: str) -> None:
    body = [
        "The council voted on Tuesday to close the old bridge to all traffic from next month.",
        "Engineers said the steel had corroded beyond repair and could not be saved at all.",
    ]
    assert clean_paragraphs([notice, *body]) == body
    assert clean_paragraphs([*body, notice]) == body


BODY = (
    "<p>The football association said on Monday that the draw for the finals would take "
    "place in Lisbon in the spring, with the first matches a month later.</p>"
    "<p>Twelve of the sixteen places have been decided after the last round of group games, "
    "in which two former champions were knocked out on goal difference.</p>"
    "<p>The remaining four places will go to the winners of the play-offs in November, for "
    "which the draw was made in Zurich on Monday afternoon.</p>"
)
AFTER = (
    "<p>Officials said ticket sales would open in March, with a share of seats kept back "
    "for fans of the teams that qualify through the play-offs.</p>"
)


def _page(body: str) -> str:
    return (
        "<html><head><title>Draw for the finals set for Lisbon</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/sport'>Sport</a></li></ul></nav>"
        f"<article><h1>Draw for the finals set for Lisbon</h1>{body}</article>"
        "<aside><h2>Most read</h2><ul><li><a href='/a'>Coach leaves after ten years</a></li>"
        "<li><a href='/b'>Cup final moved to Cardiff</a></li></ul></aside></body></html>"
    )


def _page_text(html: str) -> str:
    return page_entry(extract_page(html, "https://sport.example/draw"), "https://s.example/d").text


@pytest.mark.parametrize("where", ["inside", "closing"])
def test_a_list_of_links_the_article_introduces_is_kept(where: str) -> None:
    teams = "".join(
        f"<li><a href='/teams/{t.lower()}'>{t}</a></li>" for t in ("Argentina", "Brazil", "Chile")
    )
    listed = f"<p>These are the teams that have qualified so far:</p><ul>{teams}</ul>"
    html = _page(BODY + listed + (AFTER if where == "inside" else ""))
    text = _page_text(html)
    assert "\n\nArgentina\n\nBrazil\n\nChile" in text
    assert "Home" not in text and "Coach leaves" not in text


def test_words_either_side_of_a_block_are_not_joined() -> None:
    cut = (
        "<div class='article-text'>The association reported that profits rose"
        "<div class='metered-content'>sharply in the third quarter, as ticket prices climbed."
        "</div></div>"
    )
    text = _page_text(_page(BODY + cut + AFTER))
    assert "profits rose sharply in the third quarter" in text
    assert "rosesharply" not in text


def test_a_comment_thread_after_the_body_is_dropped_names_and_all() -> None:
    body = [
        "The council voted on Tuesday to close the old bridge to all traffic from next month.",
        "Engineers said the steel had corroded beyond repair and could not be saved at all.",
    ]
    thread = [
        "Join the conversation",
        "reader0",
        "I live near there and can confirm that the situation on the ground is very different.",
        "anna k",
        "Great reporting as always. Would love to see a follow-up once the numbers come out.",
    ]
    assert clean_paragraphs([*body, *thread]) == body
    # before the body, the same words are a prompt, not a thread: the body stays
    assert clean_paragraphs(["Comments", *body]) == body


def test_teasers_under_a_related_heading_go_and_the_body_after_an_inline_promo_stays() -> None:
    related = (
        "<h2>Related coverage</h2>"
        "<p><a href='/a'>Cup final moved to Cardiff</a> The final will be played in Wales "
        "for the first time since the stadium reopened, organisers said.</p>"
        "<p><a href='/b'>Coach leaves after ten years</a> The club said it would name a "
        "successor before the start of the new season in August.</p>"
    )
    promo = (
        "<p>Related: <a href='/c'>Ticket prices rise again</a></p>"
        "<p><a href='/uefa'>The European body</a> said on Tuesday that the finals would be "
        "played over four weeks, with the last two in the capital.</p>"
    )
    text = _page_text(_page(BODY + promo + AFTER + related))
    assert "The European body said on Tuesday" in text
    assert text.endswith("fans of the teams that qualify through the play-offs.")
    assert "Cardiff" not in text and "successor" not in text and "Ticket prices" not in text
