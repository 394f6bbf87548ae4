"""What the inbox shows before the email is opened: the subject line and the preheader.

The From name already names the newsletter, so the default subject is the top story's
headline, at most :data:`SUBJECT_LIMIT` characters (what phones show before cutting it).
The preheader names the next stories ("Plus: …"), cut at a word boundary, and is followed
in the HTML by invisible spacing (:data:`PREHEADER_SPACING`): a preview pane shows some
200 characters, and without the spacing it fills the rest with the email's first lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from digest.compose.edition import DraftItem

SUBJECT_LIMIT = 60
PREHEADER_LIMIT = 100  # about what Gmail, Apple Mail and Outlook show after the subject
PARTIAL_TITLE = 30  # the fewest characters of a headline the preheader shows cut short
ELLIPSIS = "…"
# Trailing characters a cut leaves dangling before its ellipsis.
DANGLING = " ,;:·–—-/("
# Each group is an invisible character (a combining grapheme joiner, a zero-width
# non-joiner) and a non-breaking space, which a preview pane takes as text to show but
# draws as nothing; 120 of them fill any pane. No colour or size trick: SpamAssassin's
# low-contrast and invisible-text rules stay off.
PREHEADER_SPACING = Markup("&#847;&zwnj;&nbsp;" * 120)


def cut(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters: cut at the last word boundary
    that leaves room for an ellipsis (mid-word only when the first word is too long)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    room = flat[: limit - len(ELLIPSIS) + 1]  # the character after the cut shows a boundary
    head = room[: room.rfind(" ")] if " " in room else room[:-1]
    return head.rstrip(DANGLING) + ELLIPSIS


def default_subject(items: Sequence[DraftItem]) -> str:
    """The top story's headline, at most :data:`SUBJECT_LIMIT` characters."""
    return cut(items[0].title, SUBJECT_LIMIT) if items else ""


def preheader_of(items: Sequence[DraftItem]) -> str:
    """'Plus: ' and the headlines after the top story's, as many as fit in
    :data:`PREHEADER_LIMIT` characters, then how many more there are; the last shown cut at
    a word boundary when enough of it fits. The top story's summary when it is alone."""
    if len(items) <= 1:
        return cut(items[0].summary, PREHEADER_LIMIT) if items else ""
    titles = [" ".join(item.title.split()) for item in items[1:]]
    shown: list[str] = []
    for number, title in enumerate(titles):
        rest = len(titles) - number - 1  # after this one
        more = f" · and {rest} more" if rest else ""
        whole = "Plus: " + " · ".join([*shown, title]) + more
        if len(whole) <= PREHEADER_LIMIT:
            shown.append(title)
            continue
        start = "Plus: " + "".join(f"{kept} · " for kept in shown)
        room = PREHEADER_LIMIT - len(start) - len(more)
        if room >= PARTIAL_TITLE or not shown:
            return start + cut(title, room) + more
        return "Plus: " + " · ".join(shown) + f" · and {rest + 1} more"
    return "Plus: " + " · ".join(shown)
