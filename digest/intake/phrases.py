"""The phrase rules of boilerplate: promos, share and subscribe prompts, comment prompts,
credits, tag lines, adverts and bylines, each a case-blind regular expression with its
weight.

Most of these expressions can only match a text that starts with one of a few words or
holds one of a few others, and running a dozen case-blind expressions over every
paragraph of every article is the bulk of cleaning's cost. So each rule has a
:class:`Gate`, a cheap test on the lower-cased text that every text the expression
matches passes; the expression runs only behind an open gate. A rule with no gate
always runs. tests/test_phrases.py checks each gate against its expression on every
paragraph of the test and benchmark corpora and on crafted lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

DECISIVE = 2.0  # a phrase that marks boilerplate wherever it stands
SUGGESTIVE = 0.7  # a phrase that needs another sign (position, shape) to agree

_SEP = r"\s*(?:[:|»›>→…–—-]|$)"
_NAME = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|al|bin))*"
_PHRASE_TEXT = {
    "promo": (
        DECISIVE,
        r"^(must[- ]reads?|read more|read also|also read|more reading|further reading|"
        r"related( stories| articles| coverage| reading| content| posts?| links?)?|"
        r"recommended( for you| reading| stories)?|you (may|might) (also )?(like|enjoy)|"
        r"don'?t miss|see also|trending( now)?|most (read|popular)|editor'?s picks?|"
        r"top stories|continue reading|keep reading|read the full (story|article))"
        + _SEP
        + r"|^more (from|on|in) [^:.!?]{1,40}?\s*(:|$)|^the post .{1,300} appeared first on |"
        r"^\W{0,2}(click|tap) here\b",
    ),
    "media": (SUGGESTIVE, r"^(watch|listen|video|podcast|gallery|photos|in pictures)\s*[:|]"),
    "share": (
        DECISIVE,
        r"^(share|tweet|email|print|pin it|whatsapp|facebook|twitter|linkedin|reddit|"
        r"copy link|share on \w+|share via \w+)( (this|article|story|page|link|post))*"
        r"\s*[:!.]?$|\bshare (this|the) (article|story|post|page)\b|^(follow|like) us on\b|"
        r"^follow (him|her|them|us|@\w+)\b|\bclick (here )?to share\b|"
        r"^((share|post|send)( on| via| to)? \w+\s*)+$",
    ),
    "subscribe": (
        DECISIVE,
        r"^(sign up|subscribe|register|join)\b.{0,80}\b(newsletters?|inbox|email alerts|"
        r"mailing list)|\b(sign up|subscribe) (for|to) (our|the|this) ([\w'’-]+ ){0,4}newsletter|"
        r"(delivered (straight |directly )?|^get (the|our) .{0,60}\b(in|to) )your inbox|"
        r"^(subscribe|sign up|register)( now| today| here| free)?\s*[!.]?$|"
        r"^(become|join as) a (paying )?(member|subscriber|supporter|patron)\b|"
        r"^(please )?support (our|independent|quality) (work|journalism|reporting)|"
        r"\bdonate (today|now|here)\b|\bnever miss (a|an|another) (story|update|issue|thing)\b|"
        r"\byou can unsubscribe (at any time|anytime)\b|"
        r"^get (the|our) (free )?([\w'’-]+ ){0,3}newsletter\b|"
        r"\bconsider (making |giving )?an? (contribution|donation|gift)\b|"
        r"\bkeep (our|this) journalism free\b",
    ),
    "prompt": (  # a call for readers' stories and tips
        DECISIVE,
        r"^have you been affected by\b|\bget in touch with (our|the) (reporters?|newsroom|"
        r"news ?desk|team)\b|^(got|have) a (news )?(tip|story( idea)?)\?",
    ),
    "consent": (
        DECISIVE,
        r"\b(we|this (site|website)|our (site|website))( and our (\w+ )?partners)? uses? cookies\b|"
        r"^(accept|reject|manage) (all )?cookies\b|\bcookie (policy|settings|preferences)\b",
    ),
    "newsletter": (SUGGESTIVE, r"\bnewsletters?\b|\bsubscri(be|ption)\b"),
    "comments": (
        DECISIVE,
        r"^(leave|post|add|write|submit) (a|your) (comment|reply)|^(join|start) the "
        r"(conversation|discussion|debate)\b|^(\d+ )?comments?( \(\d+\))?\s*:?$|"
        r"\b(let us know|tell us|share your (thoughts|views))\b.{0,40}\bcomments?\b|"
        r"^comments (are|have been) (closed|disabled)|\bcomments (are|will be) moderated\b|"
        r"\bcomment(ing)? (policy|guidelines)\b|"
        r"^(view|show|load|read) (all )?(\d+ )?comments",
    ),
    "credit": (
        DECISIVE,
        r"^(?=.{0,150}$)(photo|image|picture|photograph|illustration|graphic|credit|file photo)s?"
        r"( credit)?\s*(:|courtesy\b)|^(?=(\S+\s+){0,11}\S+\s*$)(photo|image|picture)s? by\b|"
        r"/\s*(cc|reuters|ap|afp|getty( images)?|shutterstock|"
        r"epa|wikimedia( commons)?|flickr|unsplash|pexels|istock)\s*\)?\s*$|\(((photo|image|"
        r"credit)[:\s]+)?[^()]{0,60}\b(getty images|ap photo|reuters|afp|epa|shutterstock|"
        r"unsplash)\b[^()]{0,40}\)\s*$|^(©|\(c\)|copyright)\s|"
        r"\b(photo|image|picture|photograph)s?( credit)?\s*:\s*[^.:]{1,60}$|"
        r"(^|[.!?]\s+)credits?\s*:\s*[^.:]{1,60}$|"
        r"\((photo|image|picture|photograph)s? (by|courtesy|credit)\b[^()]{1,80}\)\s*$|"
        r"^(?=.{0,150}$)[^©]*[.!?]\s+©\s*[^.©]{1,40}$",  # a caption, then its "© Agency"
    ),
    "caption": (  # a short line that says what a picture shows
        DECISIVE,
        r"^(?=(\S+\s+){0,19}\S+\s*$)(?!.*\b(said|says|told)\b)(.*[^,\s]\s+((is|are|was|were|"
        r"seen|left|right|centre|center|above|below) )?pictured\b(?!,)|pictured\s*:)|"
        r"^(above|below|top|left|right|inset|main (image|picture|photo))\s*:",
    ),
    "notice": (  # reprint, rights and paywall notices
        DECISIVE,
        r"^this (copy|article|content|material) is for your personal,? non-?commercial use\b|"
        r"\bto order presentation-ready copies\b|\bdjreprints\b|"
        r"\bmay not be (re)?published, broadcast, rewritten,? or redistributed\b|"
        r"^you('ve| have) (now )?(read|reached|used)\b.{0,40}\b(free )?(articles?|stories)\b|"
        r"^this (article|story|content) is (only )?(for|available to|exclusive to) "
        r"(paying |premium )?(subscribers|members)\b|^already a (subscriber|member)\?|"
        r"^(subscribe|log in|sign in) to (continue|keep) reading\b",
    ),
    "tags": (
        DECISIVE,
        r"^(tags?|tagged( with| as)?|filed under|topics?|categories|category|posted in|"
        r"keywords?)\s*:",
    ),
    "advert": (
        DECISIVE,
        r"^(advertisement|advertising|sponsored( content| post)?|paid (content|post)|"
        r"promoted( content)?|partner content|ad|(story|article) continues below"
        r"( advertisement)?)\s*[:.]?$|"
        r"\bwe (may )?(earn|receive|get) (an? )?([\w-]+ ){0,2}commission",
    ),
    "byline": (
        DECISIVE,
        r"^((written|reported|edited|words|reporting|additional reporting|editing) )?by\s+"
        + _NAME
        + r"(\s*(;|,|and)\s*((writing|editing|additional reporting) by\s+"
        + _NAME
        + r"|(staff|senior|special|contributing)?\s?(writer|reporter|correspondent|editor)"
        r"[^.]{0,40}))*\.?$|^(he|she|they|[A-Z][\w'’-]+( [A-Z][\w'’-]+)?) can be reached at\b|"
        r"\breach (him|her|them|me) at\b|^(email|contact) (the )?(author|reporter)",
    ),
}


class Gate(NamedTuple):
    """Open when the lower-cased text starts with one of ``starts``, holds one of
    ``holds`` or ends with one of ``ends`` once stripped."""

    starts: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()

    def open(self, lowered: str) -> bool:
        return (
            lowered.startswith(self.starts)
            or any(word in lowered for word in self.holds)
            or (bool(self.ends) and lowered.rstrip().endswith(self.ends))
        )


# Each anchored branch (^...) of a rule gives its first words to ``starts``; each other
# branch a word it cannot match without to ``holds``.
GATES = {
    "share": Gate(
        starts=(
            "share", "tweet", "email", "print", "pin it", "whatsapp", "facebook", "twitter",
            "linkedin", "reddit", "copy link", "follow", "like", "post", "send",
        ),
        holds=("share",),
    ),
    "subscribe": Gate(
        starts=("sign up", "subscribe", "register", "join", "become", "please", "support"),
        holds=(
            "newsletter", "your inbox", "donate", "never miss", "unsubscribe", "consider",
            "journalism free",
        ),
    ),
    "prompt": Gate(starts=("have you been affected", "got a", "have a"), holds=("get in touch",)),
    "newsletter": Gate(holds=("newsletter", "subscri")),
    "consent": Gate(holds=("cookie",)),
    "comments": Gate(
        starts=("leave", "post", "add", "write", "submit", "join", "start"),
        holds=("comment",),
    ),
    "credit": Gate(
        starts=("illustration", "graphic", "credit", "file photo", "copyright", "(c)"),
        holds=("photo", "image", "picture", "credit", "/", "©"),
        ends=(")",),
    ),
    "caption": Gate(
        starts=("above", "below", "top", "left", "right", "inset", "main"), holds=("pictured",)
    ),
    "notice": Gate(
        starts=(
            "this copy", "this article", "this content", "this material", "this story",
            "you've", "you have", "already a", "subscribe", "log in", "sign in",
        ),
        holds=("presentation-ready", "djreprints", "redistributed"),
    ),
    "advert": Gate(
        starts=("ad", "sponsored", "paid", "promoted", "partner", "story", "article"),
        holds=("commission",),
    ),
    "byline": Gate(
        starts=(
            "by", "written", "reported", "edited", "words", "reporting", "additional",
            "editing", "email", "contact",
        ),
        holds=("reach",),
    ),
}  # fmt: skip


# Rules that keep their full weight in a long paragraph: a cookie notice is long prose too.
WHATEVER_THE_LENGTH = frozenset({"consent", "notice"})


class Phrase(NamedTuple):
    name: str
    pattern: re.Pattern[str]
    weight: float
    gate: Gate | None
    in_long_prose: float  # the weight in a paragraph of 40 words or more


PHRASES = [
    Phrase(
        name,
        re.compile(text, re.IGNORECASE),
        weight,
        GATES.get(name),
        weight if name in WHATEVER_THE_LENGTH else min(weight, SUGGESTIVE),
    )
    for name, (weight, text) in _PHRASE_TEXT.items()
]


def phrase_hits(text: str) -> Iterator[Phrase]:
    """The rules whose expression matches ``text``, in table order."""
    lowered = text.lower()
    for phrase in PHRASES:
        if (phrase.gate is None or phrase.gate.open(lowered)) and phrase.pattern.search(text):
            yield phrase
