"""A draft's fingerprint: what the editor saw, so an approval of a draft that has changed
since is refused with what changed (:class:`StaleDraftError`).

It covers what a send would compose: the items in order with their headlines and
summaries, the note and the subject line. It is plain text safe in a form field and an
URL, and it carries a short hash of each part, so two fingerprints can be compared part
by part (``v1~<whole>~<id>.<hash>_<id>.<hash>…~<note>~<subject>``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from zoneinfo import ZoneInfo

from digest.compose.edition import Draft
from digest.errors import DigestError
from digest.render.email import subject_of

VERSION = "v1"


class StaleDraftError(DigestError):
    """The draft changed since the editor saw it: nothing was sent. ``changes`` says what
    changed, one line each."""

    def __init__(self, segment: str, changes: list[str]) -> None:
        super().__init__(
            f"not sent: {segment}'s next edition changed since it was shown ("
            + "; ".join(changes)
            + "); look at it again, then approve"
        )
        self.changes = changes


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]


def fingerprint_of(draft: Draft, zone: ZoneInfo) -> str:
    items = "_".join(f"{i.article_id}.{_hash(i.title, i.summary)}" for i in draft.items)
    note = _hash(draft.note)
    subject = _hash(subject_of(draft, draft.items, zone)) if draft.items else _hash("")
    return "~".join((VERSION, _hash(items, note, subject), items, note, subject))


def _parts(fingerprint: str) -> tuple[list[tuple[int, str]], str, str] | None:
    pieces = fingerprint.split("~")
    if len(pieces) != 5 or pieces[0] != VERSION:
        return None
    items: list[tuple[int, str]] = []
    for piece in filter(None, pieces[2].split("_")):
        ident, _, digest = piece.partition(".")
        if not ident.isdigit():
            return None
        items.append((int(ident), digest))
    return items, pieces[3], pieces[4]


def changes_between(
    shown: str, current: str, title: Callable[[int], str], subject: str
) -> list[str]:
    """What changed from the fingerprint ``shown`` to ``current``, one line each ([] when
    nothing did); ``title`` names an article, ``subject`` is the current subject line."""
    if shown == current:
        return []
    before, now = _parts(shown), _parts(current)
    if before is None or now is None:
        return ["the edition is not the one shown"]
    old_items, old_note, old_subject = before
    new_items, new_note, new_subject = now
    old, new = dict(old_items), dict(new_items)
    lines = [f"#{a} {title(a)!r} left the edition" for a, _ in old_items if a not in new]
    lines += [f"#{a} {title(a)!r} came in" for a, _ in new_items if a not in old]
    lines += [
        f"#{a} {title(a)!r} has another headline or summary"
        for a, digest in new_items
        if a in old and old[a] != digest
    ]
    kept_old = [a for a, _ in old_items if a in new]
    kept_new = [a for a, _ in new_items if a in old]
    if kept_old != kept_new:
        lines.append("the items are in another order")
    if old_note != new_note:
        lines.append("the editor's note changed")
    if old_subject != new_subject:
        lines.append(f"the subject is now {subject!r}")
    return lines or ["the edition is not the one shown"]
