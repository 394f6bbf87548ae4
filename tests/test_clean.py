from __future__ import annotations

import pytest

from digest.intake.clean import THRESHOLD, clean_html, clean_paragraphs, explain
from digest.intake.html_text import Block, blocks, hints_of, paragraphs, sanitise
from digest.store.tags import normalise_tag

SEED = [
    "Trump Putin Western liberalism",
    "Russian President Vladimir Putin",
    "Russian President Vladimir Putin/CC",
    "Russian President Vladimir Putin ruled Thursday that the charges of Russian interference "
    "in the 2016 US presidential election were “invented” by Donald Trump’s opponents.",
    "“All this was invented by people who are in opposition to Trump to delegitimize his work,” "
    "the Russian president said at his annual press conference.",
    "Must Read:  Former Secretary of State Hillary Clinton Suspected of Corruption",
    "Asked about the work done by Donald Trump since his election, Vladimir Putin said that "
    "only “his voters, the American people” could evaluate him.",
    "Andrei Santov",
    "Andrei, a sociologist by profession, born in Russia but currently located in UK, covers "
    "mostly European and Russia-related news for The Talking Democrat.",
]


def test_seed_boilerplate_is_removed() -> None:
    kept = clean_paragraphs(SEED, title="Putin: Russian Interference", author="Andrei Santov")
    text = "\n".join(kept)
    assert kept[0].startswith("Russian President Vladimir Putin ruled Thursday")
    for junk in ("Must Read", "/CC", "Western liberalism", "sociologist", "Andrei Santov"):
        assert junk not in text
    assert len(kept) == 3


def test_credits_promos_and_plugs_anywhere_are_removed() -> None:
    body = [
        "The council voted on Tuesday to close the old bridge to all traffic from next month.",
        "Photo: Jane Doe/Reuters",
        "Read More: Why the bridge is failing",
        "Engineers said the steel had corroded beyond repair and could not be saved at all.",
        "A protester outside the hall (Getty Images)",
        "Sign up for our morning newsletter to get stories like this one.",
        "Maria Lopez covers transport for Civic Wire.",
    ]
    kept = clean_paragraphs(body)
    assert kept == [body[0], body[3]]


def test_a_closing_paragraph_that_merely_uses_covers_is_kept() -> None:
    body = [
        "The insurer said on Monday it would raise premiums by nine percent across the board.",
        "The new policy covers flood damage in forty coastal towns for the first time ever.",
    ]
    assert clean_paragraphs(body) == body


def test_html_paragraphs_skip_captions_and_scripts() -> None:
    html = (
        "<p>First &amp; foremost.</p><figure><img src='x.jpg'><figcaption>Caption/CC"
        "</figcaption></figure><script>alert(1)</script><p>Second<br>line</p>"
    )
    assert paragraphs(html) == ["First & foremost.", "Second", "line"]


def test_sanitise_strips_scripts_handlers_and_javascript_urls() -> None:
    dirty = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<a href="https://ok.example/">ok</a></p><script>bad()</script><style>p{}</style>'
    )
    clean = sanitise(dirty)
    for bad in ("onclick", "javascript:", "<script", "<style", "bad()"):
        assert bad not in clean
    assert 'href="https://ok.example/"' in clean


def test_tags_are_normalised() -> None:
    assert normalise_tag("U.S. Politics") == "us-politics"
    assert normalise_tag("  Artificial   Intelligence ") == "artificial-intelligence"
    assert normalise_tag("Tech") == "tech"


def test_blocks_carry_tag_link_density_and_hints_of_their_ancestors() -> None:
    html = (
        '<div class="entry-content"><p>Plain <a href="/x">linked</a> text here.</p>'
        '<div id="jp-relatedposts"><ul><li><a href="/a">Another story</a></li></ul></div>'
        '<aside class="newsletter-signup"><p>Get the briefing.</p></aside>'
        '<figure><img src="p.jpg"><figcaption>A caption <span class="credit">AP</span>'
        "</figcaption></figure><h2>Subhead</h2><p class=author-bio>Jane writes.</p></div>"
    )
    found = {b.text: b for b in blocks(html)}
    assert found["Plain linked text here."] == Block("Plain linked text here.", "p", 0.3)
    assert found["Another story"].tag == "li" and found["Another story"].link_density == 1.0
    assert found["Another story"].hints == {"related"}
    assert found["Get the briefing."].hints == {"newsletter", "aside"}
    assert found["A caption AP"] == Block(
        "A caption AP", "figcaption", 0.0, frozenset({"figcaption"})
    )
    assert found["Subhead"].tag == "h2" and found["Jane writes."].hints == {"author-bio"}


def test_an_unclosed_paragraph_does_not_lend_its_class_to_the_next() -> None:
    html = '<p class="caption">Photo of the quay<p>The council met.<li>One<li>Two'
    assert [(b.text, b.hints) for b in blocks(html)] == [
        ("Photo of the quay", {"caption"}),
        ("The council met.", frozenset()),
        ("One", frozenset()),
        ("Two", frozenset()),
    ]


def test_hostile_or_broken_markup_never_raises() -> None:
    for html in ("<![foo bar]>x", "<" * 500, "<div>" * 5000 + "deep", "<p>a</p</p>b", "</>"):
        assert isinstance(blocks(html), list)
    assert [b.text for b in blocks("<![if !IE]>shown<![endif]><svg><text>hidden</text></svg>")] == [
        "shown"
    ]


PROSE = [
    "The council voted on Tuesday to close the old bridge to all traffic from next month.",
    "Engineers said the steel had corroded beyond repair and could not be saved at all.",
]


HOSTILE = [
    '<img src=x onerror="alert(1)"><svg onload="alert(2)"><circle/></svg>',
    '<a href="jav&#x09;ascript:alert(3)">tab</a><a href="&#106;avascript:alert(4)">ent</a>',
    '<a href=" JaVaScRiPt:alert(5)">case</a><a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
    '<iframe src="https://evil.example/"></iframe><form action="/steal"><input name="q"></form>',
    '<p style="background:url(javascript:alert(6))" onmouseover="alert(7)">styled</p>',
    "<scr<script>ipt>alert(8)</script><style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(9)></style></mglyph>",
    '<object data="x.swf"><embed src="x.swf"></object><details ontoggle="alert(10)">t</details>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_sanitise_leaves_nothing_that_runs(html: str) -> None:
    clean = sanitise(html).lower()
    for bad in ("<script", "<style", "<svg", "<iframe", "<form", "<input", "<object", "<embed"):
        assert bad not in clean
    for bad in ("onerror", "onload", "onmouseover", "ontoggle", "javascript:", "data:", "style="):
        assert bad not in clean
    assert "alert(" not in clean or "&gt;" in clean  # only as escaped, inert text


def test_sanitise_keeps_content_and_safe_links_with_noopener() -> None:
    clean = sanitise(
        '<p class="x" id="y">Hi <a href="https://ok.example/" target="_blank" rel="opener">ok</a>'
        '<img src="https://ok.example/p.jpg" alt="P"></p><!-- note -->'
    )
    assert clean == (
        '<p>Hi <a href="https://ok.example/" rel="noopener noreferrer">ok</a>'
        '<img src="https://ok.example/p.jpg" alt="P"></p>'
    )


def test_explain_gives_each_block_its_score_parts_and_reason() -> None:
    verdicts = explain(
        blocks(
            "<p>Trump Putin Western liberalism</p><p>" + SEED[3] + "</p>"
            '<p>Must Read: <a href="/x">Clinton Suspected</a></p><p>' + SEED[4] + "</p>"
        ),
        title="Putin: Russian Interference",
    )
    tag_line, lead, promo, quote = verdicts
    assert tag_line.dropped and tag_line.parts["position:leading"] > 0
    assert tag_line.score == round(sum(tag_line.parts.values()), 2) >= THRESHOLD
    assert promo.dropped and promo.parts["phrase:promo"] >= THRESHOLD and promo.parts["links"] > 0
    assert promo.reason.startswith("phrase:promo+2.0")
    assert promo.line.startswith("drop +") and "Must Read" in promo.line
    assert not lead.dropped and not quote.dropped and lead.parts["long"] < 0


@pytest.mark.parametrize(
    "body",
    [
        ["Markets fell sharply on Monday.", PROSE[0], PROSE[1]],
        [PROSE[0], "“We are not going anywhere,” she said.", PROSE[1]],
        [PROSE[0], PROSE[1], "“We won,” she said."],
        [PROSE[0], "What happens next", PROSE[1]],
        [
            PROSE[0],
            "Watch for the vote on Thursday, when the council decides the budget.",
            PROSE[1],
        ],
        [PROSE[0], "Shares of the company fell 12 percent after the announcement.", PROSE[1]],
        [PROSE[0], "By Friday, the fund had run dry.", PROSE[1]],
    ],
)
def test_short_legitimate_paragraphs_survive(body: list[str]) -> None:
    assert clean_paragraphs(body) == body


def test_html_boxes_named_by_their_class_are_dropped_and_the_body_kept() -> None:
    html = (
        f"<p>{PROSE[0]}</p>"
        '<div class="share-buttons"><a href="#">Facebook</a> <a href="#">Email</a></div>'
        f"<h2>What Happens Next</h2><ul><li>Traffic moves to the ring road.</li></ul>"
        '<aside class="promo-box"><p>Our members keep this newsroom going, join them.</p>'
        "</aside>"
        f"<p>{PROSE[1]}</p>"
        '<div class="author-bio"><p>A long note about the author, who lived here for years.</p>'
        "</div>"
        '<section id="comments"><p>A reader wrote a long comment about the bridge and traffic.</p>'
        "</section>"
    )
    assert clean_html(html) == "\n\n".join(
        [PROSE[0], "What Happens Next", "Traffic moves to the ring road.", PROSE[1]]
    )


def test_a_hint_on_the_wrapper_of_the_whole_article_is_ignored() -> None:
    html = (
        f'<div class="post share-enabled related-content"><p>{PROSE[0]}</p><p>{PROSE[1]}</p></div>'
    )
    assert clean_html(html) == "\n\n".join(PROSE)


def test_an_article_is_never_cleaned_away_entirely() -> None:
    plug = "Sign up for our newsletter to hear about the bridge every single morning."
    [verdict] = explain([Block(plug)])
    assert not verdict.dropped and verdict.reason == "kept: the only body left"
    assert clean_paragraphs(["Advertisement", "Share"]) == []


def test_the_seed_page_cleans_the_same_from_html_and_from_paragraphs() -> None:
    html = "".join(f"<p>{p}</p>" for p in SEED)
    text = clean_html(html, title="Putin: Russian Interference", author="Andrei Santov")
    assert text == "\n\n".join(SEED[i] for i in (3, 4, 6))


def test_a_line_recurring_in_the_source_is_dropped_whatever_it_looks_like() -> None:
    footer = "Harbour Gazette, owned by its readers since 1987, on the quay every single morning."
    verdicts = explain(
        [Block(PROSE[0]), Block(footer), Block(PROSE[1])], recurring={footer}.__contains__
    )
    assert [v.dropped for v in verdicts] == [False, True, False]
    assert verdicts[1].reason.startswith("repetition+2.5") and verdicts[1].score >= THRESHOLD


@pytest.mark.parametrize(
    ("names", "hints"),
    [
        ("sharedaddy sd-sharing-enabled", {"share"}),
        ("jp-relatedposts", {"related"}),
        ("newsletter-signup", {"newsletter"}),
        ("author-box", {"author-bio"}),
        ("wp-caption-text", {"caption"}),
        ("comments-area", {"comments"}),
        ("post-tags", {"tags"}),
        ("entry-content subscriber-only", set()),
        ("commentary lead header-image", set()),
    ],
)
def test_class_names_give_role_hints(names: str, hints: set[str]) -> None:
    assert hints_of([("class", names), ("style", "share")]) == hints


def test_a_long_cookie_notice_is_dropped_like_a_short_one() -> None:
    body = [
        "The harbour authority said on Monday that the north quay would reopen in March after "
        "two years of repairs, ahead of the date it gave last spring.",
        "Engineers replaced the timber piles with steel ones and raised the deck by forty "
        "centimetres to keep it above the highest tides forecast.",
        "This website uses cookies to improve your experience while you navigate through the "
        "website. Out of these, the cookies that are categorised as necessary are stored on "
        "your browser as they are essential for the working of basic functionalities of the "
        "website, and we also use third-party cookies that help us analyse how you use it.",
    ]
    assert clean_paragraphs(body) == body[:2]


def test_a_caption_goes_with_its_credit_and_prose_before_a_credit_stays() -> None:
    body = (
        "<p>Ukraine and Moldova signed an agreement on Saturday to share emergency power.</p>"
        "<p>Technicians repair a high-voltage line near Odesa in October.</p>"
        "<p>Photo: Jane Doe/Reuters</p>"
        "<p>Officials said repeated attacks since October had damaged several substations.</p>"
        "<p>A reader in the rooftop reading room of the Kalasatama library.</p>"
        "<p>(Getty Images)</p>"
        "<p>Shares in Northwind Bank fell 12% after the bank said it expected losses.</p>"
        "<p>(Getty Images)</p>"
        "<p>The site pictured earlier this month.</p><p>Photo: AP</p>"
    )
    kept = clean_html(body).split("\n\n")
    assert kept == [
        "Ukraine and Moldova signed an agreement on Saturday to share emergency power.",
        "Officials said repeated attacks since October had damaged several substations.",
        "Shares in Northwind Bank fell 12% after the bank said it expected losses.",
    ]
    # a line that is not beside a credit is never taken for a caption
    alone = "<p>Technicians repair a high-voltage line near Odesa in October.</p>"
    assert "Technicians repair" in clean_html(alone + "<p>Repairs took a week, they said.</p>")
