"""Whether a sentence can open a summary, and whether it is a reporting lead.

A summary is read cold: under a headline, with nothing before it.  Its first sentence must
not point at text the reader never sees.  :func:`dangling` names the reason one does:

* a **pronoun** (``He``, ``It said``, ``They``, ``His comments came as``, ``This is``);
* a **connective** that continues an argument (``But``, ``However``, ``Meanwhile``);
* a **reference** to something not yet named: ``The cooperative said`` when neither the
  headline nor the summary so far names a cooperative, ``These measures``, ``Mr Smith``
  when no Smith was introduced;
* an **unattributed quote**: a sentence that opens a quotation and names no speaker (``he
  said`` names none);
* a **fragment** that starts in lower case or on a dash.

:func:`is_reporting` says whether an article's first sentence is a reporting sentence (not a
quote, a dateline, a caption, a question or a teaser line): such a lead belongs in the
summary.  Both are plain rules on words, deterministic and offline.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PRONOUNS = _words(
    "he she it they we i you him her them us his its their our my your hers theirs ours "
    "this that these those such both another either neither"
)
TIME_NOUNS = _words(
    "year years week weeks month months morning afternoon evening night weekend summer winter "
    "spring autumn fall season quarter century decade january february march april may june "
    "july august september october november december monday tuesday wednesday thursday friday "
    "saturday sunday"
)
CONNECTIVES = _words(
    "but however and yet so also meanwhile still nevertheless nonetheless instead moreover "
    "furthermore additionally besides thus therefore hence consequently indeed likewise "
    "similarly otherwise accordingly regardless anyway though too separately elsewhere "
    "previously again plus overall"
)
CONNECTIVE_PHRASES = (
    "in addition",
    "as a result",
    "on the other hand",
    "even so",
    "despite this",
    "despite that",
    "in contrast",
    "by contrast",
    "at the same time",
    "after that",
    "in turn",
    "for example",
    "for instance",
    "in particular",
    "in fact",
    "on top of that",
    "as well as this",
    "that said",
    "having said that",
    "earlier,",
    "later,",
)
# "The same", "the other", "the former" point back whatever follows them.
BACK_POINTERS = _words("same other former latter aforementioned above")
# Words that end a noun phrase after "The": prepositions, relatives, verbs of reporting and
# auxiliaries.  The ones in ANCHORS name what the phrase refers to ("The owner of Harrods").
NP_END = _words(
    "said says told added is are was were has have had will would could can may might should "
    "must did does do also and or as after before since over under near into than while when "
    "not now who which that whose with of in on at for from behind by to about against between "
    "across among"
)
ANCHORS = _words("of to behind for from in at on who that whose with between among about against")
UNIQUE = _words(
    "government police public economy world weather opposition parliament army military navy "
    "internet pandemic coalition cabinet treasury monarchy sun moon minister chancellor secretary "
    "commissioner president pope king queen prince princess"
)
# Words a story calls one thing by after its headline used another ("Bill" → "The measure").
KIN = (
    _words(
        "bill measure legislation law act package plan programme program proposal scheme "
        "deal agreement accord treaty pact sanction rule regulation policy reform"
    ),
    _words("case challenge lawsuit suit appeal trial ruling"),
    _words(
        "company firm startup group business maker manufacturer developer retailer carrier "
        "airline bank lender insurer chain"
    ),
)
TITLES = _words("mr mrs ms miss dr prof")
SPEECH = re.compile(
    r"\b(said|says|say|told|tells|added|adds|asked|asks|according|explained|wrote|writes|warned|"
    r"warns|insisted|insists|argued|argues|stated|noted|notes|claimed|claims|commented|replied|"
    r"tweeted|posted|declared|admitted|announced|continued|recalled|reckons|believes|urged)\b",
    re.IGNORECASE,
)
WORD = re.compile(r"[\w'’-]+")
RELATES = re.compile(r"\b(comes|came|come|coming) (as|after|amid|days|weeks|hours)\b", re.I)
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
QUOTED = re.compile(r"“[^”]*”?|\"[^\"]*\"?|‘[^’]*’(?!\w)")
QUOTE_MARKS = "“\"‘'«„"
DATELINE = re.compile(
    r"^([A-Z][A-Z .,'-]{2,}(\([\w .]+\))?\s*[-–—:]\s*$)|"  # "LONDON (Reuters) -" alone
    r"^(updated|published|posted|last updated|first published)\b",
    re.IGNORECASE,
)
CAPTION = re.compile(
    r"\b(pictured|photographed|file photo|in this (?:photo|image|picture)|seen here|"
    r"left to right)\b|\b(?:photo|picture|image)(?:graph)?s?\s*(?::|by\b|courtesy\b)",
    re.IGNORECASE,
)
TEASER = re.compile(
    r"^(here'?s|here is|find out|read on|read more|click|watch|listen|sign up|subscribe|"
    r"don'?t miss|this is what|everything you need|what you need to know)\b|"
    r"\b(you need to know|you won'?t believe|explained:)",
    re.IGNORECASE,
)


def dangling(sentence: str, context: str = "") -> str | None:
    """Why ``sentence`` cannot open a summary read after ``context`` (the headline and the
    summary so far), or ``None`` when it can."""
    text = THOUSANDS.sub("", sentence.strip())  # "1,650-kilometer" is one word
    if not text:
        return None
    if text[0] in QUOTE_MARKS:
        return None if _attributed(text) else "unattributed quote"
    if text[0].islower() or text[0] in "-–—…,;:)" or text.startswith("..."):
        return "fragment"
    words = WORD.findall(text)
    if not words:
        return None
    first = words[0].lower().replace("’", "'")
    second = words[1].lower() if len(words) > 1 else ""
    lowered = text.lower()
    if any(lowered.startswith(p) for p in CONNECTIVE_PHRASES) or first in CONNECTIVES:
        return "connective"
    if first in PRONOUNS:
        if first in {"this", "that", "these", "those"} and second in TIME_NOUNS:
            return None  # "This week, ..." points at the calendar, not at earlier text
        return "pronoun"
    if first in TITLES and len(words) > 1 and words[1][:1].isupper():
        named = len(words) > 2 and words[2][:1].isupper()
        if not named and _stem(words[1]) not in _known(context):
            return "reference"  # "Mr Smith" when no Smith was introduced
        return None
    if first == "the" and len(words) > 1:
        if RELATES.search(" ".join(words[:10])):
            return "reference"  # "The drop in patience comes as ...": news told before
        return _definite(words[1:], text, context)
    return None


def is_reporting(sentence: str) -> bool:
    """Whether an article's first sentence reports the story: not a quote, a dateline, a
    caption, a question, a teaser or promo line, nor a fragment without closing punctuation."""
    text = sentence.strip()
    if len(WORD.findall(text)) < 5 or text[0] in QUOTE_MARKS:
        return False
    if not re.search(r"[.!…][\"'”’)\]]*$", text):
        return False  # a question, a tag line or a caption without a full stop
    return not (DATELINE.search(text) or CAPTION.search(text) or TEASER.search(text))


def opening(summary: str, sentences: list[str]) -> str:
    """The opening of a summary split into ``sentences``: its first sentence, with those that
    follow while a quotation it opens is still open."""
    if not sentences:
        return summary
    taken = [sentences[0]]
    for sentence in sentences[1:]:
        if not _open(" ".join(taken)):
            break
        taken.append(sentence)
    return " ".join(taken)


def _definite(words: list[str], text: str, context: str) -> str | None:
    if words[0].lower() in BACK_POINTERS:
        return "reference"
    # "The European Commission", "The 2024 Olympics", "The US dollar's fall" are names, as
    # is a name's possession ("The Parliament's committee"); "The British company" is not
    named = 0
    while named < len(words) and words[named][:1].isupper():
        named += 1
    if named > 1 or named == len(words) or words[named - 1].endswith(("'s", "’s")):
        return None
    phrase: list[str] = []
    after = ""
    for word in words[named : named + 5]:
        low = word.lower()
        if word[:1].isupper():
            return None  # "The timber-built Kalasatama library" names it
        if low in NP_END:
            after = low
            break
        phrase.append(low)
        if _ends_clause(text, word):
            after = ","
            break
    if not phrase:
        return None
    if after in ANCHORS:
        return None  # "The owner of Harrods", "The man who ..." name what they mean
    known = _known(context)
    if any(_stem(w) in known or w in UNIQUE or _kin(_stem(w)) & known for w in phrase):
        return None
    return "reference"


def _kin(word: str) -> frozenset[str]:
    """The words a headline may have used for what ``word`` names ("The measure" after a
    headline about a bill)."""
    for family in KIN:
        if word in family:
            return family
    return frozenset()


def _ends_clause(text: str, word: str) -> bool:
    at = text.find(word)
    end = at + len(word)
    return at >= 0 and end < len(text) and text[end] in ",;:(—–"


def _attributed(text: str) -> bool:
    outside = QUOTED.sub(" ", text)
    if not SPEECH.search(outside):
        return False
    names = [
        w
        for w in WORD.findall(outside)
        if w.lower() not in PRONOUNS and not SPEECH.fullmatch(w) and w.lower() not in {"the", "a"}
    ]
    return bool(names)


def _known(context: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in WORD.findall(context.lower()))


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'").removesuffix("'s")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def _open(text: str) -> bool:
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1
