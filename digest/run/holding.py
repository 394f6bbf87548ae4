"""A run of a segment whose editions need an editor's approval (``approval = "required"``).

When its run comes (``digest run``, ``digest send`` or the scheduler), the edition is
composed; with something to send it is held (a :class:`~digest.store.models.HeldEdition`
that waits) and the editors in ``[desk] notify`` are told once. Nothing is recorded or
sent: an editor approves it (:mod:`digest.run.approval`), or skips it. A later run while it
waits says so, until its ``approval_deadline`` passes: then ``on_deadline`` decides —
"send" records and sends it as every edition is sent, "skip" drops it (its articles stay
new) — and the log says the deadline rule did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from digest.compose.edition import Draft
from digest.config import Config
from digest.errors import DigestError
from digest.run.desk_log import (
    DEADLINE_SEND,
    DEADLINE_SKIP,
    HOLD,
    RULE,
    held_line,
    write_log,
)
from digest.run.desk_mail import NOTICES, approval_notice, send_desk_mail
from digest.run.editions import ANOTHER_RUN, OnRecord
from digest.run.holds import (
    Held,
    claim_notice,
    decide,
    decided_line,
    deciding,
    hold,
    release_notice,
    waiting_hold,
)
from digest.run.report import Finisher, SegmentReport, nothing_to_send
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import HoldStatus

APPROVAL_REQUIRED = "required"


class Recorder(Protocol):
    """What holding needs of a segment's run (:class:`digest.run.segments.SegmentRun`)."""

    store: Store
    config: Config
    backend: str

    def compose(self, segment: SegmentSettings, now: datetime) -> tuple[Draft, int | None]: ...

    def record(
        self,
        draft: Draft,
        seen: int | None,
        slot: str,
        now: datetime,
        *,
        approved_by: str = "",
        on_record: OnRecord | None = None,
    ) -> int | None: ...

    def send(self, edition_id: int, note: str = "") -> Finisher: ...


def held_run(run: Recorder, segment: SegmentSettings, now: datetime, slot: str) -> SegmentReport:
    """The run of an approval-required segment: hold, wait, or apply the deadline rule."""
    store, config = run.store, run.config
    with store.session() as session:
        waiting = waiting_hold(session, segment.name)
    if waiting is not None:
        if waiting.deadline_at is not None and now >= waiting.deadline_at:
            return at_deadline(run, segment, waiting, now)
        since = waiting.due_at.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z")
        note = f"still waiting for approval since {since}" + deadline_words(config, waiting)
        if waiting.notified_at is not None:
            return SegmentReport(segment.name, note=note)
        told = tell_editors(run, segment, waiting, None, now)  # telling them failed before
        return (
            told_report(segment.name, 0, note, told)
            if told.editors or told.error
            else (SegmentReport(segment.name, note=note))
        )
    draft, _ = run.compose(segment, now)
    why = nothing_to_send(draft, config.zone)
    if why:
        return SegmentReport(segment.name, note=why)
    try:
        with store.session() as session:
            zone = config.segment_zone(segment.name)  # the slot's wall time is read there
            made = hold(session, segment, slot, now, zone, notify=bool(config.desk.notify))
            if isinstance(made, Held):
                write_log(session, segment.name, RULE, HOLD, held_line(slot), now)
    except IntegrityError:
        made = "another run holds this edition for approval"
    if isinstance(made, str):
        return SegmentReport(segment.name, note=made)
    told = tell_editors(run, segment, made, draft, now, taken=True)
    return told_report(segment.name, len(draft.items), "waiting for approval", told)


def told_report(segment: str, items: int, note: str, told: Told) -> SegmentReport:
    if told.error:
        why = f"{note}; the editors could not be told: {told.error}"
        return SegmentReport(segment, items, note=why, failed=True)
    return SegmentReport(segment, items, note=f"{note} ({told.editors} editors told)")


@dataclass(frozen=True)
class Told:
    editors: int = 0  # 0 when none are named, or another run told them
    error: str = ""  # telling them failed (a later run tries again)


def tell_editors(
    run: Recorder,
    segment: SegmentSettings,
    held: Held,
    draft: Draft | None,
    now: datetime,
    *,
    taken: bool = False,
) -> Told:
    """Email ``[desk] notify`` once per held edition (``taken``: this run took the telling
    when it held the edition)."""
    store, config = run.store, run.config
    addresses = config.desk.notify
    if not addresses:
        return Told()
    if not taken:
        with store.session() as session:
            if not claim_notice(session, held.id, now):
                return Told()
    try:
        if draft is None:
            draft, _ = run.compose(segment, now)
        notice = approval_notice(config, draft, deadline_words(config, held, long=True))
        _, outcome = send_desk_mail(
            store, config, NOTICES, segment.name, notice, addresses, run.backend
        )
        if not outcome.accepted:
            raise DigestError(next(iter(outcome.failed.values()), "the backend took none"))
    except DigestError as e:
        with store.session() as session:
            release_notice(session, held.id)
        return Told(error=str(e))
    return Told(len(outcome.accepted))


def deadline_words(config: Config, held: Held, *, long: bool = False) -> str:
    """What happens if nobody acts, in words."""
    segment = config.segment(held.segment)
    if held.deadline_at is None:
        return (
            "It waits until an editor approves or skips it."
            if long
            else "; no deadline: it waits for an editor"
        )
    when = held.deadline_at.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z")
    outcome = "sent as it stands" if segment.on_deadline == "send" else "skipped"
    if long:
        return f"If nobody approves or skips it by {when}, it will be {outcome}."
    return f"; at {when} it will be {outcome}"


def at_deadline(
    run: Recorder, segment: SegmentSettings, held: Held, now: datetime
) -> SegmentReport:
    """The approval deadline passed: ``on_deadline`` decides, and the log says so."""
    store = run.store
    zone = run.config.zone
    due = (
        held.deadline_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if held.deadline_at else ""
    )
    if segment.on_deadline == "send":
        draft, seen = run.compose(segment, now)
        why = nothing_to_send(draft, zone)
        if not why:
            detail = f"nobody acted by {due}: on_deadline = send sent it"
            hook = deciding(held, HoldStatus.sent, RULE, DEADLINE_SEND, detail, now)
            edition_id = run.record(draft, seen, held.slot, now, on_record=hook)
            if edition_id is not None and edition_id != ANOTHER_RUN:
                return run.send(edition_id, "approval deadline passed: sent by on_deadline")()
            with store.session() as session:
                return SegmentReport(segment.name, note=decided_line(session, held.id, zone))
        detail = f"nobody acted by {due}; on_deadline = send, but {why}: skipped"
    else:
        detail = f"nobody acted by {due}: on_deadline = skip skipped it; its articles stay new"
    with store.session() as session:
        if not decide(session, held, HoldStatus.skipped, RULE, now):
            return SegmentReport(segment.name, note=decided_line(session, held.id, zone))
        write_log(session, segment.name, RULE, DEADLINE_SKIP, detail, now)
    return SegmentReport(segment.name, note="approval deadline passed: " + detail)
