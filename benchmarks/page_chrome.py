"""Page chrome for the extraction benchmark: eight CMS-like markups around an article body.

Each style wraps the same article in the furniture real news pages carry: navigation,
cookie banners, share bars, bylines, figures with captions and credits, in-body promos
and advertisements, pull quotes, newsletter boxes, author bios, tag lists, related and
most-read lists with teaser sentences, comment threads, and footers with prose. Which
pieces appear, and where in the body, is drawn from a seeded random generator, so the
same seed gives the same page.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

COOKIES = (
    "We and our partners use cookies and similar technologies to personalise content and "
    "advertising, to provide social media features and to analyse our traffic. You can "
    "change your choices at any time by visiting Privacy settings.",
    "This website uses cookies to improve your experience while you navigate through the "
    "website. Out of these, the cookies that are categorized as necessary are stored on your "
    "browser as they are essential for the working of basic functionalities of the website.",
    "By clicking Accept all, you agree that we and our 143 partners may store and access "
    "information on your device and process personal data, such as unique identifiers and "
    "browsing data, for personalised advertising and content, measurement and audience research.",
)
NEWSLETTERS = (
    "Sign up for our morning briefing: the stories you need to know, delivered to your inbox "
    "every weekday before 7 am.",
    "Get our free newsletter. The best of our journalism, handpicked by our editors and sent "
    "to you every Friday.",
    "Subscribe to The Daily Digest and never miss a story. You can unsubscribe at any time; "
    "read our privacy notice.",
)
COMMENTS = (
    "This is exactly what I have been saying for years, and nobody in charge seems to listen "
    "until it is far too late to do anything about it.",
    "Interesting piece, but it leaves out the most important part of the story, which is who "
    "is actually going to pay for all of this in the end.",
    "I live near there and can confirm that the situation on the ground is very different from "
    "what the officials are describing in their statements.",
    "Great reporting as always. Would love to see a follow-up once the numbers for the next "
    "quarter come out and we can see whether any of it worked.",
    "The comments here are a good reminder of why I stopped reading the comments.",
    "Does anyone know whether the report mentioned in the article has been published in full, "
    "or only the summary that was handed to journalists?",
    "My father worked in that industry for thirty years and he would have said the same thing "
    "the spokesman said, word for word.",
    "Correction to the article: the figure quoted in the fourth paragraph was revised last week.",
)
CAPTIONS = (
    ("Delegates arrive for the second day of talks on Tuesday.", "Photo: Jane Doe/Reuters"),
    ("The site pictured earlier this month.", "(Getty Images)"),
    ("Officials speak to reporters after the meeting.", "Image: AFP"),
    ("Visitors queue outside the building on the opening day.", "Credit: Shutterstock"),
    ("A file picture taken in 2024.", "© EPA-EFE"),
    ("Workers at the plant in the morning shift.", "Photograph: Sam Wu/The Guardian"),
)
PROMOS = (
    "Read more: {h}",
    "Related: {h}",
    "You may also like: {h}",
    "READ MORE: {h}",
    "Must Read: {h}",
    "Don't miss: {h}",
    "Also read: {h}",
    "Watch: {h}",
)
ADS = ("Advertisement", "Story continues below advertisement", "ADVERTISEMENT", "Sponsored")
SHARES = ("Share this article", "Share", "Share on Facebook", "Share on X", "Copy link", "Email")
FOLLOW = (
    "Follow us on Facebook, on X @NewsDesk and on Instagram. Send your story ideas to "
    "newsdesk@example.com.",
    "Have you been affected by the issues raised in this story? Get in touch with our "
    "reporters; your comments may be used in a future article.",
    "This article was produced with support from our readers. Consider making a contribution "
    "to keep our journalism free for everyone.",
)
ROLES = ("Senior Correspondent", "Political Reporter", "Technology Editor", "Staff Writer")
RAW = ("<h2", "<ul", "<ol", "<table", "<div")  # slots placed as they are, not in a paragraph
NAV = ("Home", "News", "World", "Politics", "Business", "Technology", "Science", "Culture")
NAV += ("Sport", "Opinion", "Video", "Podcasts", "Newsletters", "Subscribe")


@dataclass(frozen=True)
class Story:
    """What a page shows: the article and the other stories its chrome links to."""

    title: str
    author: str
    published: str  # ISO 8601
    section: str
    tags: tuple[str, ...]
    url: str
    paragraphs: tuple[str, ...]
    others: tuple[tuple[str, str], ...]  # (headline, teaser sentence) of other articles
    # The body's markup, one slot per block, when it is more than plain paragraphs
    # (page_shapes.py): a slot that starts with a block element is placed as it is.
    markup: tuple[str, ...] = ()


class Chrome:
    """The pieces of one page, drawn once from a seeded generator."""

    def __init__(self, story: Story, seed: int, site: str) -> None:
        self.story, self.site = story, site
        self.rng = random.Random(seed)
        r = self.rng
        self.cookie = r.choice(COOKIES) if r.random() < 0.7 else ""
        self.newsletter = r.choice(NEWSLETTERS) if r.random() < 0.7 else ""
        self.comments = r.sample(COMMENTS, r.randint(2, 5)) if r.random() < 0.6 else []
        self.caption = r.choice(CAPTIONS) if r.random() < 0.8 else None
        self.related = list(story.others[: r.randint(3, 5)]) if r.random() < 0.85 else []
        self.most_read = [h for h, _ in story.others[5:10]] if r.random() < 0.6 else []
        self.follow = r.choice(FOLLOW) if r.random() < 0.5 else ""
        self.bio = (
            f"{story.author} is a {r.choice(ROLES).lower()} at {site}, covering "
            f"{story.section.lower()} and the people it affects. Before joining {site} "
            "they reported from Brussels, Nairobi and Washington."
            if r.random() < 0.5
            else ""
        )
        n = len(story.paragraphs)
        spots = list(range(1, max(2, n - 1)))
        self.promo_at = r.sample(spots, min(len(spots), r.randint(0, 2)))
        self.ad_at = r.sample(spots, min(len(spots), r.randint(0, 2)))
        self.caption_at = r.choice(spots) if self.caption and r.random() < 0.6 else 0
        self.pull_at = r.choice(spots) if r.random() < 0.35 else -1
        self.inline_newsletter_at = r.choice(spots) if self.newsletter and r.random() < 0.4 else -1

    def promo(self) -> tuple[str, str]:
        headline = self.rng.choice(self.story.others)[0]
        template = self.rng.choice(PROMOS)
        label, _, _ = template.partition("{h}")
        return label, headline

    def pull_quote(self) -> str:
        paragraph = self.rng.choice(self.story.paragraphs)
        sentence = paragraph.split(". ")[0].rstrip(".")
        return sentence if len(sentence.split()) > 6 else paragraph


Inserter = Callable[[str, Chrome], str]  # the markup of one in-body piece, by kind


def body(chrome: Chrome, paragraph: Callable[[str], str], piece: Inserter) -> str:
    """The article's paragraphs with the chrome's in-body pieces between them."""
    out: list[str] = []
    story = chrome.story
    slots = story.markup or tuple(escape(t, quote=False) for t in story.paragraphs)
    for index, slot in enumerate(slots):
        if index == chrome.caption_at and chrome.caption:
            out.append(piece("figure", chrome))
        if index in chrome.ad_at:
            out.append(piece("ad", chrome))
        out.append(slot if slot.startswith(RAW) else paragraph(slot))
        if index in chrome.promo_at:
            out.append(piece("promo", chrome))
        if index == chrome.pull_at:
            out.append(piece("pull", chrome))
        if index == chrome.inline_newsletter_at:
            out.append(piece("newsletter", chrome))
    return "\n".join(out)


def head(story: Story, site: str, *, canonical: bool = True, extra: str = "") -> str:
    tags = "".join(f'<meta property="article:tag" content="{escape(t)}">' for t in story.tags)
    link = f'<link rel="canonical" href="{story.url}">' if canonical else ""
    return (
        f'<head><meta charset="utf-8"><title>{escape(story.title)} | {site}</title>{link}'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta property="og:title" content="{escape(story.title)}">'
        f'<meta property="og:site_name" content="{site}">'
        f'<meta name="author" content="{escape(story.author)}">'
        f'<meta property="article:published_time" content="{story.published}">{tags}'
        f'<link rel="stylesheet" href="/static/main.css">'
        "<script>window.__ads = {slots: ['top', 'mpu', 'inread']};"
        " (function(){var s=document.createElement('script');s.async=true;})();</script>"
        f"{extra}</head>"
    )


def nav_list(items: Sequence[str] = NAV) -> str:
    return "<ul>" + "".join(f'<li><a href="/{i.lower()}/">{i}</a></li>' for i in items) + "</ul>"


def related_items(chrome: Chrome, teaser: bool = True) -> str:
    return "".join(
        f'<li><a href="/story/{i}"><h3>{escape(h)}</h3></a>'
        + (f"<p>{escape(t)}</p>" if teaser else "")
        + "</li>"
        for i, (h, t) in enumerate(chrome.related)
    )


def comment_items(chrome: Chrome) -> str:
    names = ("Gerald W.", "LisaM", "northern_light", "P. Okonkwo", "Dave", "anna k")
    return "".join(
        f'<li class="comment"><div class="comment-author"><b>{names[i % len(names)]}</b> '
        f'<span class="says">says:</span></div><div class="comment-meta">{i + 2} hours ago</div>'
        f'<div class="comment-content"><p>{escape(text)}</p></div>'
        f'<div class="reply"><a href="#">Reply</a></div></li>'
        for i, text in enumerate(chrome.comments)
    )
