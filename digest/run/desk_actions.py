"""What an editor changes in a segment's next edition from the desk: pin, exclude, forget a
choice, move an item, edit its headline and summary, the note and the subject line.

Each change is stored for the next compose (a send's as a preview's), logged with who and
when, and answered with one line to show. Bad input is refused in one line that says what
to fix (:class:`DeskInputError`); text is kept as data, never markup (it is escaped or
sanitised wherever it is shown).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from digest.clock import utcnow
from digest.compose.edition import Draft
from digest.compose.editor_choices import (
    AlreadySentError,
    UnknownArticleError,
    choose_article,
    find_article,
    pin_notes,
    sent_in,
)
from digest.compose.summarise import Summariser
from digest.config import Config
from digest.errors import DigestError
from digest.render.email import one_line
from digest.run.desk_log import EDIT, EXCLUDE, MOVE, NOTE, PIN, SUBJECT, UNPIN, write_log
from digest.run.desk_view import NoSummaries, compose_next
from digest.store.database import Store, insert_missing
from digest.store.models import Article, EditorAction, EditorChoice, EditorEdit, NextEdition
from digest.store.urls import canonical_url

TITLE_LIMIT = 300
SUMMARY_LIMIT = 2_000
NOTE_LIMIT = 10_000
SUBJECT_LIMIT = 250
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what no text needs (NUL breaks stores)


class DeskInputError(DigestError):
    """What an editor gave cannot be used; the message says what to fix."""


def _text(value: str, what: str, limit: int, *, line: bool) -> str:
    cleaned = CONTROL.sub("", value.replace("\r\n", "\n"))
    cleaned = " ".join(cleaned.split()) if line else cleaned.strip()
    if len(cleaned) > limit:
        raise DeskInputError(
            f"the {what} may have at most {limit} characters; this one has {len(cleaned)}"
        )
    return cleaned


def _article(session: Session, segment: str, ref: str) -> Article:
    """The stored article ``ref`` names (an id, its URL or its canonical URL), unless the
    segment already sent it."""
    try:
        article = find_article(session, ref)
    except UnknownArticleError:
        canonical = canonical_url(ref.strip()) if not ref.strip().isdigit() else ""
        if not canonical or canonical == ref.strip():
            raise
        article = find_article(session, canonical)
    edition = sent_in(session, segment, article.id)
    if edition is not None:
        raise AlreadySentError(article, segment, edition)
    return article


def _next_row(session: Session, segment: str, editor: str, now: datetime) -> NextEdition:
    """The segment's row of changes to its next edition, made if missing, locked."""
    insert_missing(
        session,
        NextEdition.__table__,
        {"segment": segment, "note": "", "subject": "", "order": ""}
        | {"updated_by": editor, "updated_at": now},
    )
    row = session.get_one(NextEdition, segment, with_for_update=True, populate_existing=True)
    row.updated_by, row.updated_at = editor, now
    return row


def _draft(session: Session, config: Config, segment: str, now: datetime) -> Draft:
    summariser: Summariser = NoSummaries()
    return compose_next(session, config, config.segment(segment), now, summariser=summariser)


def pin(
    store: Store, config: Config, segment: str, ref: str, editor: str, now: datetime | None = None
) -> str:
    """Put the article ``ref`` (id or URL) at the top of the segment's next edition."""
    now = now or utcnow()
    settings = config.segment(segment)
    with store.session() as session:
        article = _article(session, segment, ref)
        earlier = session.get(EditorChoice, (segment, article.id))
        choose_article(session, segment, str(article.id), EditorAction.pin, now)
        notes = pin_notes(session, settings, article, now)
        if earlier is not None and earlier.action is EditorAction.exclude:
            notes.insert(0, "it was excluded; this replaces that")
        row = session.get(NextEdition, segment)
        if row is not None and row.order:  # the editor ordered the edition: a pin leads it
            ids = [i for i in row.order.split(",") if i != str(article.id)]
            row.order = ",".join([str(article.id), *ids])
        line = f"pinned #{article.id} {article.title!r} to the top of {segment}'s next edition"
        line += "".join(f"; {note}" for note in notes)
        write_log(session, segment, editor, PIN, line, now)
    return line


def exclude(
    store: Store,
    config: Config,
    segment: str,
    article_id: int,
    editor: str,
    now: datetime | None = None,
) -> str:
    """Leave the article out of the segment's next edition."""
    now = now or utcnow()
    config.segment(segment)
    with store.session() as session:
        try:
            article = _article(session, segment, str(article_id))
        except AlreadySentError as e:
            return f"nothing to exclude: {e}"  # what the editor wants already holds
        earlier = session.get(EditorChoice, (segment, article.id))
        choose_article(session, segment, str(article.id), EditorAction.exclude, now)
        line = f"excluded #{article.id} {article.title!r} from {segment}'s next edition"
        if earlier is not None and earlier.action is EditorAction.pin:
            line += "; it was pinned: this replaces that"
        write_log(session, segment, editor, EXCLUDE, line, now)
    return line


def unpin(
    store: Store,
    config: Config,
    segment: str,
    article_id: int,
    editor: str,
    now: datetime | None = None,
) -> str:
    """Forget the editor's pin or exclusion of the article: it is ranked like any other."""
    now = now or utcnow()
    config.segment(segment)
    with store.session() as session:
        choice = session.get(EditorChoice, (segment, article_id))
        if choice is None:
            return f"#{article_id} has no pin or exclusion in {segment}'s next edition"
        article = session.get_one(Article, article_id)
        done = "pin" if choice.action is EditorAction.pin else "exclusion"
        session.delete(choice)
        line = f"forgot the {done} of #{article_id} {article.title!r}: it is ranked as any other"
        write_log(session, segment, editor, UNPIN, line, now)
    return line


def move(
    store: Store,
    config: Config,
    segment: str,
    article_id: int,
    direction: str,
    editor: str,
    now: datetime | None = None,
) -> str:
    """Move an item of the next edition one place ``up`` or ``down``."""
    now = now or utcnow()
    if direction not in ("up", "down"):
        raise DeskInputError(f'move an item "up" or "down", not {direction!r}')
    with store.session() as session:
        draft = _draft(session, config, segment, now)
        ids = [item.article_id for item in draft.items]
        if article_id not in ids:
            raise DeskInputError(
                f"#{article_id} is not in {segment}'s next edition; only its items move"
            )
        here = ids.index(article_id)
        there = here - 1 if direction == "up" else here + 1
        title = draft.items[here].title
        if not 0 <= there < len(ids):
            return f"#{article_id} {title!r} is already {'first' if direction == 'up' else 'last'}"
        ids[here], ids[there] = ids[there], ids[here]
        _next_row(session, segment, editor, now).order = ",".join(map(str, ids))
        line = f"moved #{article_id} {title!r} {direction} to position {there + 1}"
        write_log(session, segment, editor, MOVE, line, now)
    return line


def edit(
    store: Store,
    config: Config,
    segment: str,
    article_id: int,
    title: str,
    summary: str,
    editor: str,
    now: datetime | None = None,
) -> str:
    """The editor's headline and summary of an item ("" keeps the composed one); both ""
    go back to the composed ones. Kept across re-composes, until the edition carries it."""
    now = now or utcnow()
    config.segment(segment)
    title = _text(title, "headline", TITLE_LIMIT, line=True)
    summary = _text(summary, "summary", SUMMARY_LIMIT, line=False)
    with store.session() as session:
        article = _article(session, segment, str(article_id))
        row = session.get(EditorEdit, (segment, article.id))
        if not (title or summary):
            if row is None:
                return f"#{article.id} {article.title!r} has no edits to undo"
            session.delete(row)
            line = f"#{article.id} {article.title!r} has its composed headline and summary again"
            write_log(session, segment, editor, EDIT, line, now)
            return line
        if row is None:  # made unless another editor's is being made: then that one
            insert_missing(
                session,
                EditorEdit.__table__,
                {"segment": segment, "article_id": article.id, "title": "", "summary": ""}
                | {"edited_by": editor, "edited_at": now},
            )
            row = session.get_one(
                EditorEdit, (segment, article.id), with_for_update=True, populate_existing=True
            )
        row.title, row.summary, row.edited_by, row.edited_at = title, summary, editor, now
        changed = [f"headline {title!r}"] if title else []
        changed += [f"summary {one_line(summary, 120)!r}"] if summary else []
        line = f"edited #{article.id}: " + " and ".join(changed)
        write_log(session, segment, editor, EDIT, line, now)
    return line


def set_note(
    store: Store,
    config: Config,
    segment: str,
    markdown: str,
    editor: str,
    now: datetime | None = None,
) -> str:
    """The editor's note at the top of the next edition (Markdown; "" none)."""
    now = now or utcnow()
    config.segment(segment)
    note = _text(markdown, "note", NOTE_LIMIT, line=False)
    with store.session() as session:
        _next_row(session, segment, editor, now).note = note
        line = f"note: {one_line(note, 120)!r}" if note else "removed the note"
        write_log(session, segment, editor, NOTE, line, now)
    return line


def set_subject(
    store: Store,
    config: Config,
    segment: str,
    subject: str,
    editor: str,
    now: datetime | None = None,
) -> str:
    """The subject line of the next edition ("" the segment's own)."""
    now = now or utcnow()
    config.segment(segment)
    subject = _text(subject, "subject", SUBJECT_LIMIT, line=True)
    with store.session() as session:
        _next_row(session, segment, editor, now).subject = subject
        line = f"subject: {subject!r}" if subject else "the subject is the segment's own again"
        write_log(session, segment, editor, SUBJECT, line, now)
    return line
