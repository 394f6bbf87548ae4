"""Who gets an edition: one pending ledger row per reader, recorded before anything is sent.

A segment's readers are the active subscribers its audience rule matches
(:func:`segment_rule`); :func:`record_recipients` numbers them into batches in SQL alone.
In a personalised edition each reader gets the items in the tags they follow: readers are
grouped by the tags they follow among the edition's own tags; each group gets one render
(an :class:`~digest.store.models.EditionVariant`) and its own batches, so a batch is still
one body for up to a thousand readers. A reader who follows no tag gets the whole edition
(the edition's own render); one whose tags have nothing in this edition gets no email
this time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, insert, literal, select
from sqlalchemy.orm import Session

from digest.compose.edition import Draft
from digest.render.email import Rendered
from digest.settings import SegmentSettings, moment
from digest.store.models import Batch, BatchStatus, Delivery, DeliveryStatus, EditionVariant
from subscribers.audience import Rule, conditions
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
    carried = {tag for item in draft.items for tag in item.tags}
    groups: dict[Topics | None, list[tuple[int, str]]] = {}
    left_out = 0
    rows = session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.followed_tags)
        .where(audience)
        .order_by(Subscriber.id)
    )
    for ident, email, followed in rows:
        topics = tuple(sorted(carried.intersection(followed or ()))) if followed else None
        if topics == ():
            left_out += 1
            continue
        groups.setdefault(topics, []).append((ident, email))
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
) -> Personalised:
    """Group the audience by followed tags, render each group's variant once, and record
    one pending ledger row per reader in batches of the group's variant."""
    groups, left_out = reader_groups(session, draft, audience)
    variant_of: dict[Topics | None, int | None] = {None: None}
    for topics in sorted(t for t in groups if t is not None):
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
    for group in sorted(groups, key=lambda t: (t is not None, t or ())):
        readers = groups[group]
        for start in range(0, len(readers), batch_size):
            chunk = readers[start : start + batch_size]
            number = len(batches)
            batches.append(_batch(edition_id, number, len(chunk), variant_of[group]))
            deliveries += [_delivery(edition_id, ident, email, number) for ident, email in chunk]
    if batches:
        session.execute(insert(Batch), batches)
        session.execute(insert(Delivery), deliveries)
    return Personalised(len(deliveries), len(variant_of) - 1, left_out)


def _batch(edition_id: int, number: int, size: int, variant: int | None) -> dict[str, object]:
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


def record_recipients(session: Session, edition_id: int, rule: Rule, batch_size: int) -> int:
    """One pending row per active subscriber the rule matches, and their batches, in SQL only.

    Only active subscribers are recorded, whatever statuses the rule names.
    """
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
    session.execute(
        insert(Delivery).from_select(
            ["edition_id", "subscriber_id", "email", "batch", "status", "message_id", "error"],
            readers,
        )
    )
    groups = (
        select(
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
        )
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.edition_id, Delivery.batch)
    )
    session.execute(
        insert(Batch).from_select(
            [
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
            ],
            groups,
        )
    )
    return int(session.scalar(select(func.count()).where(Delivery.edition_id == edition_id)) or 0)
