"""Who gets an edition: one pending ledger row per reader, recorded before anything is sent.

A segment's readers are the active subscribers its audience rule matches
(:func:`segment_rule`); :func:`record_recipients` numbers them into batches in SQL alone.
In a personalised edition each reader gets the items in the tags they follow: readers are
grouped by the tags they follow among the edition's own tags; each group gets one render
(an :class:`~digest.store.models.EditionVariant`) and its own batches, so a batch is still
one body for up to a thousand readers. A reader who follows no tag gets the whole edition
(the edition's own render); one whose tags have nothing in this edition gets no email
this time.

A local-time edition (:class:`~digest.deliver.zones.Waves`) is recorded in waves: readers
are grouped by when the schedule's wall-clock time comes in their zone, and by variant in
a personalised edition; each batch holds one wave's readers and carries its
``release_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, insert, literal, select
from sqlalchemy.orm import Session

from digest.compose.edition import Draft
from digest.deliver.zones import WavePlan, Waves, distinct_zones
from digest.render.email import Rendered
from digest.settings import SegmentSettings, moment
from digest.store.models import Batch, BatchStatus, Delivery, DeliveryStatus, EditionVariant
from subscribers.audience import Rule, conditions
from subscribers.db import UTCDateTime
from subscribers.models import Subscriber

Topics = tuple[str, ...]
RenderVariant = Callable[[Draft, Topics], Rendered]


@dataclass(frozen=True)
class Personalised:
    recipients: int
    variants: int  # renders made besides the edition's own
    left_out: int  # readers whose tags have nothing in this edition


def reader_groups(
    session: Session, draft: Draft, audience: ColumnElement[bool]
) -> tuple[dict[Topics | None, list[tuple[int, str]]], int]:
    """The audience's (id, email) by the tags they follow among the edition's (None: they
    follow none), and how many follow only tags the edition does not carry."""
    found, left_out = _groups(session, draft, audience, None)
    groups: dict[Topics | None, list[tuple[int, str]]] = {}
    for (_, topics), readers in found.items():
        groups.setdefault(topics, []).extend(readers)
    return groups, left_out


Group = tuple[int, Topics | None]  # (wave, followed tags among the edition's)


def _groups(
    session: Session, draft: Draft, audience: ColumnElement[bool], plan: WavePlan | None
) -> tuple[dict[Group, list[tuple[int, str]]], int]:
    """The audience's (id, email) by wave (0 without ``plan``) and followed tags, in one
    pass over the readers."""
    carried = {tag for item in draft.items for tag in item.tags}
    groups: dict[Group, list[tuple[int, str]]] = {}
    left_out = 0
    rows = session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.followed_tags, Subscriber.timezone)
        .where(audience)
        .order_by(Subscriber.id)
    )
    for ident, email, followed, zone in rows:
        topics = tuple(sorted(carried.intersection(followed or ()))) if followed else None
        if topics == ():
            left_out += 1
            continue
        wave = plan.wave(zone) if plan is not None else 0
        groups.setdefault((wave, topics), []).append((ident, email))
    return groups, left_out


def variant_draft(draft: Draft, topics: Topics) -> Draft:
    """The edition for readers of ``topics``: its items that carry one of them, in order."""
    wanted = set(topics)
    return replace(draft, items=tuple(i for i in draft.items if wanted.intersection(i.tags)))


def record_personal_recipients(
    session: Session,
    edition_id: int,
    draft: Draft,
    audience: ColumnElement[bool],
    batch_size: int,
    render_variant: RenderVariant,
    waves: Waves | None = None,
) -> Personalised:
    """Group the audience by followed tags (and by wave, with ``waves``), render each
    group's variant once, and record one pending ledger row per reader in batches of the
    group's variant (and wave)."""
    plan = _plan(session, audience, waves)
    groups, left_out = _groups(session, draft, audience, plan)
    variant_of: dict[Topics | None, int | None] = {None: None}
    for topics in sorted({t for _, t in groups if t is not None}):
        rendered = render_variant(variant_draft(draft, topics), topics)
        variant = EditionVariant(
            edition_id=edition_id,
            topics=",".join(topics),
            article_ids=",".join(str(i.article_id) for i in rendered.items),
            subject=rendered.subject,
            preheader=rendered.preheader,
            html=rendered.html,
            text=rendered.text,
            placeholder_nonce=rendered.placeholders.nonce,
        )
        session.add(variant)
        session.flush()
        variant_of[topics] = variant.id
    batches: list[dict[str, object]] = []
    deliveries: list[dict[str, object]] = []
    for group in sorted(groups, key=lambda g: (g[0], g[1] is not None, g[1] or ())):
        wave, followed = group
        readers = groups[group]
        release = plan.times[wave] if plan is not None else None
        for start in range(0, len(readers), batch_size):
            chunk = readers[start : start + batch_size]
            number = len(batches)
            batches.append(_batch(edition_id, number, len(chunk), variant_of[followed], release))
            deliveries += [_delivery(edition_id, ident, email, number) for ident, email in chunk]
    if batches:
        session.execute(insert(Batch), batches)
        session.execute(insert(Delivery), deliveries)
    return Personalised(len(deliveries), len(variant_of) - 1, left_out)


def _plan(session: Session, audience: ColumnElement[bool], waves: Waves | None) -> WavePlan | None:
    """The waves of the audience's zones, read in one query; None without ``waves``."""
    return None if waves is None else waves.plan(_zone_names(session, audience))


def _zone_names(session: Session, audience: ColumnElement[bool]) -> list[str]:
    """The zone names the audience's readers gave, each once."""
    return list(session.scalars(select(Subscriber.timezone).where(audience).distinct()))


def _batch(
    edition_id: int, number: int, size: int, variant: int | None, release: datetime | None = None
) -> dict[str, object]:
    return {
        "edition_id": edition_id,
        "number": number,
        "size": size,
        "status": BatchStatus.pending,
        "in_doubt": False,
        "doubt_resolution": "",
        "attempts": 0,
        "message_id": "",
        "last_error": "",
        "claimed_by": "",
        "variant_id": variant,
        "release_at": release,
    }


def _delivery(edition_id: int, subscriber: int, email: str, number: int) -> dict[str, object]:
    return {
        "edition_id": edition_id,
        "subscriber_id": subscriber,
        "email": email,
        "batch": number,
        "status": DeliveryStatus.pending,
        "message_id": "",
        "error": "",
    }


def segment_rule(segment: SegmentSettings) -> Rule:
    """The segment's audience as the subscribers package's :class:`Rule`."""
    return Rule(
        lists=segment.lists,
        where=segment.where,
        statuses=segment.status,
        follows_any=segment.follows_any,
        follows_all=segment.follows_all,
        follows_none=segment.follows_none,
        frequencies=segment.frequency,
        attributes_in=segment.attribute_in,
        attributes_exist=segment.attribute_exists,
        signed_up_after=moment(segment.signed_up_after),
        signed_up_before=moment(segment.signed_up_before),
    )


def audience(segment: SegmentSettings) -> ColumnElement[bool]:
    """SQL for the segment's readers."""
    return conditions(segment_rule(segment))


def local_zones(
    session: Session, segment: SegmentSettings, default_zone: ZoneInfo
) -> list[ZoneInfo]:
    """The zones of the segment's active readers, and ``default_zone`` (the segment's),
    each once; readers with no zone or one not known count in ``default_zone``."""
    return distinct_zones(_zone_names(session, audience(segment)), default_zone)


def record_recipients(
    session: Session, edition_id: int, rule: Rule, batch_size: int, waves: Waves | None = None
) -> int:
    """One pending row per active subscriber the rule matches, and their batches, in SQL only.

    Only active subscribers are recorded, whatever statuses the rule names. With ``waves``,
    each batch holds the readers of one wave and carries its release time.
    """
    if waves is not None:
        return _record_waves(session, edition_id, conditions(rule), batch_size, waves)
    number = func.row_number().over(order_by=Subscriber.id) - 1
    readers = select(
        literal(edition_id),
        Subscriber.id,
        Subscriber.email,
        number // batch_size,
        literal(DeliveryStatus.pending.value),
        literal(""),
        literal(""),
    ).where(conditions(rule))
    _insert_deliveries(session, readers)
    _insert_batches(session, edition_id)
    return _recorded(session, edition_id)


def _record_waves(
    session: Session,
    edition_id: int,
    audience: ColumnElement[bool],
    batch_size: int,
    waves: Waves,
) -> int:
    """Record the audience wave by wave, earliest first, in SQL alone; returns the rows.

    A batch's number says its wave: wave ``w``'s batches are numbered from ``w × stride``
    on, where the stride, the audience's size over the batch size plus one, is more
    batches than any wave has. So the readers' rows are numbered in one pass, and each
    batch's release time follows from its number, whatever readers do meanwhile.
    """
    plan = waves.plan(_zone_names(session, audience))
    wave = _wave(plan)
    place = func.row_number().over(partition_by=wave, order_by=Subscriber.id) - 1
    number = wave * (func.count().over() // batch_size + 1) + place // batch_size
    _insert_deliveries(
        session,
        select(
            literal(edition_id),
            Subscriber.id,
            Subscriber.email,
            number,
            literal(DeliveryStatus.pending.value),
            literal(""),
            literal(""),
        ).where(audience),
    )
    recorded = _recorded(session, edition_id)
    stride = recorded // batch_size + 1
    release = case(
        {n: literal(at, UTCDateTime()) for n, at in enumerate(plan.times)},
        value=Delivery.batch // stride,
    )
    _insert_batches(session, edition_id, release)
    return recorded


def _wave(plan: WavePlan) -> ColumnElement[int]:
    """SQL for a reader's wave number, from their zone's name."""
    if not plan.wave_of:
        return literal(plan.default)
    return case(plan.wave_of, value=Subscriber.timezone, else_=plan.default)


def _insert_deliveries(session: Session, readers: Select[*tuple[Any, ...]]) -> None:
    session.execute(
        insert(Delivery).from_select(
            ["edition_id", "subscriber_id", "email", "batch", "status", "message_id", "error"],
            readers,
        )
    )


def _insert_batches(
    session: Session, edition_id: int, release: ColumnElement[Any] | None = None
) -> None:
    """One pending batch per batch number of the edition's rows; with ``release``, each
    batch's release time (SQL over its number)."""
    columns = [
        Delivery.edition_id,
        Delivery.batch,
        func.count(),
        literal(BatchStatus.pending.value),
        literal(False),
        literal(""),
        literal(0),
        literal(""),
        literal(""),
        literal(""),
    ]
    names = [
        "edition_id",
        "number",
        "size",
        "status",
        "in_doubt",
        "doubt_resolution",
        "attempts",
        "message_id",
        "last_error",
        "claimed_by",
    ]
    if release is not None:
        columns.append(release)
        names.append("release_at")
    groups = select(*columns).where(Delivery.edition_id == edition_id)
    session.execute(
        insert(Batch).from_select(names, groups.group_by(Delivery.edition_id, Delivery.batch))
    )


def _recorded(session: Session, edition_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Delivery.edition_id == edition_id)) or 0)
