"""Editions held for approval: finding the one that waits, holding a new one under the
segment's lock, and deciding one exactly once (approved, skipped, or sent by its deadline).

Every decision is a conditional update of a waiting row, so of two runs, or two editors,
deciding at once, one does and the other finds it decided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digest.errors import DigestError
from digest.run.desk_log import claim_hold, write_log
from digest.run.editions import OnRecord, Undone, lock_segment
from digest.settings import SegmentSettings
from digest.store.models import Edition, HeldEdition, HoldStatus

SLOT_TIME = re.compile(r"(?:cron|at) (\d{4}-\d\d-\d\dT\d\d:\d\d)")


class NothingWaitingError(DigestError):
    """The segment has no edition waiting for approval."""


@dataclass(frozen=True)
class Held:
    """What the desk and the run need of a held edition."""

    id: int
    segment: str
    slot: str
    status: HoldStatus
    due_at: datetime
    deadline_at: datetime | None
    notified_at: datetime | None
    decided_by: str
    decided_at: datetime | None
    edition_id: int | None

    @classmethod
    def of(cls, row: HeldEdition) -> Held:
        return cls(
            row.id,
            row.segment,
            row.slot,
            row.status,
            row.due_at,
            row.deadline_at,
            row.notified_at,
            row.decided_by,
            row.decided_at,
            row.edition_id,
        )


def waiting_hold(session: Session, segment: str) -> Held | None:
    """The segment's edition waiting for approval, if one does."""
    row = session.scalar(
        select(HeldEdition)
        .where(HeldEdition.segment == segment, HeldEdition.status == HoldStatus.waiting)
        .order_by(HeldEdition.id)
        .limit(1)
    )
    return None if row is None else Held.of(row)


def require_waiting(session: Session, segment: str) -> Held:
    held = waiting_hold(session, segment)
    if held is None:
        raise NothingWaitingError(
            f"{segment} has no edition waiting for approval; a run of the segment holds one "
            "when its approval is required and it has something to send"
        )
    return held


def due_time(slot: str, zone: ZoneInfo, now: datetime) -> datetime:
    """When the run of ``slot`` was due: the local minute a scheduled or unscheduled slot
    names, else ``now``."""
    found = SLOT_TIME.fullmatch(slot)
    if found is None:
        return now
    return datetime.fromisoformat(found.group(1)).replace(tzinfo=zone)


def hold(
    session: Session,
    segment: SegmentSettings,
    slot: str,
    now: datetime,
    zone: ZoneInfo,
    *,
    notify: bool,
) -> Held | str:
    """Hold the segment's edition of ``slot``, under its lock; or say why not (another run
    holds one, or the slot already ran). With ``notify`` the run that holds it takes the
    telling of the editors at once, so that no other run tells them too."""
    lock_segment(session, segment.name, now)
    waiting = waiting_hold(session, segment.name)
    if waiting is not None:
        return "another run holds this edition for approval"
    taken = session.scalar(
        select(HeldEdition.id).where(HeldEdition.segment == segment.name, HeldEdition.slot == slot)
    ) or session.scalar(
        select(Edition.id).where(Edition.segment == segment.name, Edition.slot == slot)
    )
    if taken is not None:
        return f"already ran for slot {slot}"
    due = due_time(slot, zone, now)
    minutes = segment.approval_deadline
    row = HeldEdition(
        segment=segment.name,
        slot=slot,
        status=HoldStatus.waiting,
        due_at=due,
        # A late hold (a missed slot caught up, a segment's first edition) still gives the
        # editors the whole window.
        deadline_at=max(due, now) + timedelta(minutes=minutes) if minutes > 0 else None,
        notified_at=now if notify else None,
        decided_by="",
    )
    session.add(row)
    session.flush()
    return Held.of(row)


def claim_notice(session: Session, held_id: int, now: datetime) -> bool:
    """Take the telling of the editors about this held edition; False when it was taken."""
    taken = session.scalar(
        update(HeldEdition)
        .where(HeldEdition.id == held_id, HeldEdition.notified_at.is_(None))
        .values(notified_at=now)
        .returning(HeldEdition.id)
    )
    return taken is not None


def release_notice(session: Session, held_id: int) -> None:
    """Telling the editors failed: a later run tries again."""
    session.execute(update(HeldEdition).where(HeldEdition.id == held_id).values(notified_at=None))


def decide(
    session: Session,
    held: Held,
    status: HoldStatus,
    editor: str,
    now: datetime,
    edition_id: int | None = None,
) -> bool:
    """Decide the held edition if it still waits; False when someone decided it first."""
    done = session.scalar(
        update(HeldEdition)
        .where(HeldEdition.id == held.id, HeldEdition.status == HoldStatus.waiting)
        .values(status=status, decided_by=editor, decided_at=now, edition_id=edition_id)
        .returning(HeldEdition.id)
    )
    return done is not None


def deciding(
    held: Held, status: HoldStatus, editor: str, action: str, detail: str, now: datetime
) -> OnRecord:
    """The hook that decides the held edition, and logs it, in the transaction that records
    its edition; it undoes the recording when someone decided it first."""

    def on_record(session: Session, edition_id: int) -> None:
        if not decide(session, held, status, editor, now, edition_id):
            raise Undone
        write_log(session, held.segment, editor, action, detail, now, edition_id)
        claim_hold(session, held.segment, held.slot, edition_id)

    return on_record


def decided_line(session: Session, held_id: int, zone: ZoneInfo) -> str:
    """What became of a held edition someone else decided."""
    row = session.get_one(HeldEdition, held_id)
    who = row.decided_by or "the approval deadline"
    when = f" at {row.decided_at.astimezone(zone):%Y-%m-%d %H:%M %Z}" if row.decided_at else ""
    return f"it was {row.status.value} by {who}{when} meanwhile"
