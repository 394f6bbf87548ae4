"""Each phrase rule's gate is open for every text its expression matches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import EXAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.intake.feeds import parse_feed
from digest.intake.html_text import blocks
from digest.intake.phrases import GATES, PHRASES, Phrase, phrase_hits

ROOT = Path(__file__).resolve().parent.parent
GATED = [p for p in PHRASES if p.gate is not None]

# At least one line for every branch of every gated expression, as it might appear.
CRAFTED = [
    "Share this article",
    "SHARE ON FACEBOOK",
    "Tweet",
    "Email this story",
    "Print",
    "Pin it",
    "WhatsApp",
    "Copy link",
    "Please share this article with your friends.",
    "Click here to share.",
    "Follow us on Instagram for more.",
    "Like us on Facebook",
    "Follow @citydesk",
    "Post on X Send via Email",
    "Sign up for our free newsletter.",
    "Join 40,000 readers who get our morning newsletter",
    "Subscribe to the Daily Brief newsletter for more.",
    "The best stories, delivered straight to your inbox.",
    "Get the morning briefing sent to your inbox",
    "Subscribe now!",
    "Register today",
    "Become a member",
    "Join as a paying supporter of our work",
    "Please support independent journalism.",
    "Support quality reporting",
    "If you value this, donate today to keep it free.",
    "Our newsletters are free.",
    "Subscribe to The Daily Digest and never miss a story.",
    "You can unsubscribe at any time; read our privacy notice.",
    "We and our partners use cookies and similar technologies to personalise content.",
    "This website uses cookies.",
    "Accept all cookies",
    "Read our cookie policy",
    "Visitors queue outside the building on the opening day. Credit: Shutterstock",
    "Manage your subscription",
    "Leave a comment",
    "Post your reply",
    "Join the conversation",
    "Start the debate",
    "12 comments",
    "Comments (4):",
    "Let us know what you think in the comments below.",
    "Share your thoughts in the comments.",
    "Comments are closed.",
    "All comments are moderated before they appear.",
    "Read our commenting guidelines",
    "View all 31 comments",
    "Photo: Jane Doe/Reuters",
    "Image courtesy of the museum",
    "Illustration: Sam Lee",
    "Graphic: The Times",
    "Credit: AP",
    "File photo: the harbour in 2019",
    "Photos by Ana Ruiz",
    "Vladimir Putin/CC",
    "Crowds gather outside the court (Getty Images)",
    "The harbour at dawn (Photo: Reuters)",
    "© 2026 The Harbour Gazette",
    "(c) City Desk",
    "Copyright 2026 Metro Beat",
    "The harbour at dawn. Photograph: Mika Laine",
    "Flood water on Main Street (Photo by Tom Hale)",
    "Advertisement",
    "Sponsored content",
    "Paid post",
    "Promoted",
    "Partner content",
    "Ad",
    "Story continues below advertisement",
    "Article continues below",
    "We may earn a commission when you buy through links on our site.",
    "By Helen Marsh",
    "Written by Priya Natarajan and Owen Pryce",
    "Reporting by Keiko Sato; Editing by Tom Ruiz",
    "Additional reporting by Ana Pires",
    "Words by Sam Okoro, staff writer",
    "Helen Marsh can be reached at helen@example.com.",
    "You can reach her at 555-0100.",
    "Email the author",
    "Contact the reporter",
    "A file picture taken in 2024. © EPA-EFE",
    "Get our free newsletter.",
    "Consider making a contribution to keep our journalism free for everyone.",
    "Have you been affected by the issues raised in this story?",
    "Have a news tip? Email tips@example.com",
    "The site pictured earlier this month.",
    "Pictured: the new bridge at night",
    "Above: crowds outside the court",
    "This copy is for your personal, non-commercial use only.",
    "To order presentation-ready copies for distribution visit https://www.djreprints.com.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "You have read 3 of your 5 free articles this month.",
    "This article is for subscribers only.",
    "Already a subscriber? Log in.",
    "Subscribe to continue reading.",
]


def corpus() -> Iterator[str]:
    """Every paragraph of the example feeds, the boilerplate fixtures and the benchmark
    pages, and the crafted lines."""
    yield from CRAFTED
    for feed in sorted((EXAMPLE / "feeds").iterdir()):
        for entry in parse_feed(feed.read_bytes())[1]:
            yield from (b.text for b in blocks(entry.html))
    for folder in (ROOT / "tests" / "data" / "boilerplate", ROOT / "benchmarks" / "data"):
        for page in sorted(folder.rglob("*.html")):
            yield from (b.text for b in blocks(page.read_text(encoding="utf-8")))
        for text in sorted(folder.rglob("*.txt")):
            yield from text.read_text(encoding="utf-8").split("\n\n")


def test_every_gated_rule_matches_a_crafted_line() -> None:
    for phrase in GATED:
        assert any(phrase.pattern.search(line) for line in CRAFTED), phrase.name
    assert set(GATES) == {p.name for p in GATED}


def test_no_gate_is_shut_on_a_text_its_expression_matches() -> None:
    texts = list(dict.fromkeys(corpus()))
    assert len(texts) > 1500
    matched = 0
    for text in texts:
        for phrase in GATED:
            if phrase.pattern.search(text):
                matched += 1
                assert phrase.gate is not None and phrase.gate.open(text.lower()), (
                    phrase.name,
                    text,
                )
        assert [p.name for p in phrase_hits(text)] == [
            p.name for p in PHRASES if p.pattern.search(text)
        ]
    assert matched >= len(CRAFTED)


# Random lines from the rules' own words, in any case: a gate must not shut out a match.
WORDS = sorted(
    {
        w
        for line in CRAFTED
        for w in line.replace("(", " ( ").replace(")", " ) ").replace("/", " / ").split()
    }
    | {"the", "a", "our", "in", "to", "your", "inbox", "him", "at", "said", "on", "Reuters"}
)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    st.sampled_from(["", " ", ".", ":", ")"]),
    st.sampled_from([str.lower, str.upper, str.title, str]),
)
def test_random_lines_from_the_rules_words(words: list[str], end: str, case: object) -> None:
    text = case(" ".join(words) + end)  # type: ignore[operator]
    for phrase in GATED:
        if phrase.pattern.search(text):
            assert phrase.gate is not None and phrase.gate.open(text.lower()), (phrase.name, text)


@pytest.mark.parametrize("phrase", GATED, ids=lambda p: p.name)
def test_the_gate_shuts_on_plain_prose(phrase: Phrase) -> None:
    prose = (
        "The council voted seven to two on Tuesday to rebuild the Mill Street bridge, "
        "which has been closed since the spring floods damaged its eastern pier."
    )
    assert phrase.gate is not None and not phrase.gate.open(prose.lower())
