from __future__ import annotations

from digest.compose.sentences import split_sentences
from digest.compose.summarise import LeadSummariser
from digest.intake.clean import clean_paragraphs
from digest.intake.tags import normalise_tag
from digest.intake.html_text import paragraphs, sanitise

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


def test_sentences_keep_abbreviations_decimals_and_quotes() -> None:
    text = (
        "Mr. Smith paid $3.50 for it in Jan. last year. The U.S. economy grew 2.1 percent. "
        "“We won,” she said.It was late."
    )
    assert split_sentences(text) == [
        "Mr. Smith paid $3.50 for it in Jan. last year.",
        "The U.S. economy grew 2.1 percent.",
        "“We won,” she said.",
        "It was late.",
    ]


def test_lead_summary_respects_the_word_budget_and_skips_the_title() -> None:
    text = "Big News Today.\n\n" + " ".join(
        f"Sentence number {i} has six words." for i in range(20)
    )
    summary = LeadSummariser().summarise("Big News Today", text, 20)
    assert not summary.startswith("Big News")
    assert len(summary.split()) <= 20
    assert summary.endswith(".")
    assert summary.count(".") == 3
