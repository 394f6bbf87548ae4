"""The publisher's own standfirst of an article: the feed item's summary (RSS description,
Atom summary, JSON Feed ``summary``, a WordPress excerpt) or the page's ``og:description``.

Intake keeps it as plain text beside the article's text, or "" when there is none worth
keeping: the summary a feed gives *instead of* the article (no separate content), one longer
than a standfirst ever is, or one cut short ("…", "[…]", "Continue reading").  Whether it is
a real sentence about the story is decided when an edition is composed
(:mod:`digest.compose.standfirst`).
"""

from __future__ import annotations

import html
import re

from digest.intake.html_text import paragraphs

MAX_WORDS = 80  # a standfirst is a sentence or two; more is the article or its start
CUT_SHORT = re.compile(
    r"(\.\.\.|…|\[…\]|\[\.\.\.\]|\[&hellip;\])\s*$|"
    r"\b(continue reading|read more|read the full|appeared first on)\b",
    re.IGNORECASE,
)


def standfirst_of(summary_html: str, body_text: str = "") -> str:
    """The plain text of a feed's or page's summary, "" when it is no standfirst.

    ``body_text`` is the article's cleaned text: a summary that is the article itself (or
    its opening, word for word, longer than a sentence or two) is no standfirst.
    """
    if not summary_html or not summary_html.strip():
        return ""
    text = " ".join(" ".join(paragraphs(summary_html)).split())
    if not text and "<" not in summary_html:
        text = " ".join(html.unescape(summary_html).split())
    if not text or len(text.split()) > MAX_WORDS or CUT_SHORT.search(text):
        return ""
    body = " ".join(body_text.split())
    if body and body == text:
        return ""
    return text
