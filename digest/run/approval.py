"""Approve or skip a segment's held edition (``approval = "required"``), from the desk or
from a script (``digest approve``, ``digest skip``).

Approving composes the edition now, exactly as the desk shows it; when the editor's
fingerprint of what they saw is given and differs, nothing is sent and
:class:`~digest.run.fingerprint.StaleDraftError` says what changed. Otherwise the edition
is recorded with its approver and sent through the ledger as every edition is, and the
held edition is decided in the same transaction: of two approvals at once, or an approval
and the deadline rule, one sends and the other finds it decided.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from digest.clock import utcnow
from digest.config import Config
from digest.errors import DigestError
from digest.render.email import subject_of
from digest.run.delivery import delivery_settings
from digest.run.desk_log import APPROVE, SKIP, write_log
from digest.run.editions import ANOTHER_RUN, unfinished_edition
from digest.run.fingerprint import StaleDraftError, changes_between, fingerprint_of
from digest.run.holding import at_deadline
from digest.run.holds import decide, decided_line, deciding, require_waiting, waiting_hold
from digest.run.report import SegmentReport, nothing_to_send
from digest.run.segments import SegmentRun
from digest.store.database import Store
from digest.store.models import Article, HeldEdition, HoldStatus


class NothingToSendError(DigestError):
    """The held edition has nothing left to send (skip it, or wait for new articles)."""


class AlreadyDecidedError(DigestError):
    """Someone (or the deadline rule) decided the held edition first."""


def approve(
    store: Store,
    config: Config,
    segment: str,
    editor: str,
    fingerprint: str | None = None,
    now: datetime | None = None,
    *,
    backend: str = "",
) -> SegmentReport:
    """Record the held edition, approved by ``editor``, and send it through the ledger
    (``backend`` "" the configured one); the report of its sending."""
    now = now or utcnow()
    settings = config.segment(segment)
    with store.session() as session:
        held = require_waiting(session, segment)
    if unfinished_edition(store, segment) is not None:
        raise DigestError(
            f"an edition of {segment} is still being sent; `digest resume` finishes it, "
            "then approve"
        )
    run = SegmentRun(store, config, delivery_settings(config), backend)
    draft, seen = run.compose(settings, now)
    if fingerprint is not None:
        current = fingerprint_of(draft, config.zone)
        subject = subject_of(draft, draft.items, config.zone) if draft.items else ""
        changes = changes_between(fingerprint, current, _titles(store), subject)
        if changes:
            with store.session() as session:  # decided meanwhile: that is what changed
                if session.get_one(HeldEdition, held.id).status != HoldStatus.waiting:
                    line = decided_line(session, held.id, config.zone)
                    raise AlreadyDecidedError(f"not sent: {segment}'s held edition: {line}")
            raise StaleDraftError(segment, changes)
    why = nothing_to_send(draft, config.zone)
    if why:
        raise NothingToSendError(
            f"nothing to send in {segment}'s held edition: {why}; "
            f"`digest skip --segment {segment}` drops it"
        )
    detail = f"approved the edition of {held.slot} and sent it"
    hook = deciding(held, HoldStatus.approved, editor, APPROVE, detail, now)
    edition_id = run.record(draft, seen, held.slot, now, approved_by=editor, on_record=hook)
    if edition_id is None or edition_id == ANOTHER_RUN:
        with store.session() as session:
            line = decided_line(session, held.id, config.zone)
        raise AlreadyDecidedError(f"not sent: {segment}'s held edition: {line}")
    who = editor or "the command line"
    return run.send(edition_id, f"approved by {who}")()


def skip(
    store: Store, config: Config, segment: str, editor: str, now: datetime | None = None
) -> str:
    """Drop the held edition: nothing is sent, its articles stay new for the next run."""
    now = now or utcnow()
    config.segment(segment)
    with store.session() as session:
        held = require_waiting(session, segment)
        if not decide(session, held, HoldStatus.skipped, editor, now):
            line = decided_line(session, held.id, config.zone)
            raise AlreadyDecidedError(f"not skipped: {segment}'s held edition: {line}")
        line = f"skipped {segment}'s edition of {held.slot}; its articles stay new for the next run"
        write_log(session, segment, editor, SKIP, line, now)
    return line


def apply_deadline(
    store: Store, config: Config, segment: str, now: datetime | None = None, *, backend: str = ""
) -> SegmentReport | None:
    """At a held edition's approval deadline (``digest schedule`` calls this then): its
    ``on_deadline`` decides. None when no edition waits or its deadline has not come."""
    now = now or utcnow()
    settings = config.segment(segment)
    with store.session() as session:
        held = waiting_hold(session, segment)
    if held is None or held.deadline_at is None or now < held.deadline_at:
        return None
    run = SegmentRun(store, config, delivery_settings(config), backend)
    return at_deadline(run, settings, held, now)


def _titles(store: Store) -> Callable[[int], str]:
    def title(article_id: int) -> str:
        with store.session() as session:
            article = session.get(Article, article_id)
            return article.title if article is not None else ""

    return title
