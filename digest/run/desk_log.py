"""The editors' log: every change an editor makes to a segment's next edition, every test
send, approval and skip, and what a deadline rule decided, with who and when.

Changes to the next edition are written with no edition; the edition that carries them
claims them when it is recorded (:func:`claim_for`), so an edition's page shows what
shaped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digest.store.database import Store
from digest.store.models import EditorLog

PIN = "pin"
EXCLUDE = "exclude"
UNPIN = "unpin"
MOVE = "move"
EDIT = "edit"
NOTE = "note"
SUBJECT = "subject"
TEST_SEND = "test send"
APPROVE = "approve"
SKIP = "skip"
HOLD = "hold"  # an edition was held for approval and the editors told
DEADLINE_SEND = "deadline: send"
DEADLINE_SKIP = "deadline: skip"
# What shapes the next edition: the edition recorded next claims these.
DRAFT_ACTIONS = (PIN, EXCLUDE, UNPIN, MOVE, EDIT, NOTE, SUBJECT, TEST_SEND)
RULE = ""  # the editor of what a deadline rule (or a run) decided


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    editor: str  # "" when a deadline rule decided
    action: str
    detail: str
    edition_id: int | None


def write_log(
    session: Session,
    segment: str,
    editor: str,
    action: str,
    detail: str,
    now: datetime,
    edition_id: int | None = None,
) -> None:
    session.add(
        EditorLog(
            segment=segment,
            edition_id=edition_id,
            editor=editor,
            action=action,
            detail=detail,
            created_at=now,
        )
    )


def claim_for(session: Session, segment: str, edition_id: int) -> None:
    """The segment's changes not yet carried by an edition now belong to ``edition_id``."""
    session.execute(
        update(EditorLog)
        .where(
            EditorLog.segment == segment,
            EditorLog.edition_id.is_(None),
            EditorLog.action.in_(DRAFT_ACTIONS),
        )
        .values(edition_id=edition_id)
    )


def held_line(slot: str) -> str:
    """The detail of the log row of a held edition."""
    return f"held the edition of {slot} for approval"


def claim_hold(session: Session, segment: str, slot: str, edition_id: int) -> None:
    """The log row of the held edition of ``slot`` belongs to the edition that decided it."""
    session.execute(
        update(EditorLog)
        .where(
            EditorLog.segment == segment,
            EditorLog.edition_id.is_(None),
            EditorLog.action == HOLD,
            EditorLog.detail == held_line(slot),
        )
        .values(edition_id=edition_id)
    )


def log(
    store: Store,
    segment: str,
    *,
    edition_id: int | None = None,
    limit: int = 100,
    pending: bool = False,
) -> list[LogEntry]:
    """The segment's log, newest first: everything, or only what concerns ``edition_id``,
    or (``pending``) only the changes made since its last edition."""
    query = select(EditorLog).where(EditorLog.segment == segment)
    if edition_id is not None:
        query = query.where(EditorLog.edition_id == edition_id)
    elif pending:
        query = query.where(EditorLog.edition_id.is_(None), EditorLog.action.in_(DRAFT_ACTIONS))
    query = query.order_by(EditorLog.created_at.desc(), EditorLog.id.desc()).limit(limit)
    with store.session() as session:
        return [
            LogEntry(row.created_at, row.editor, row.action, row.detail, row.edition_id)
            for row in session.scalars(query)
        ]
