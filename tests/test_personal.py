"""Personalised digests: each reader gets the items in the tags they follow, and readers
who follow the same tags share one render."""

from __future__ import annotations

import email
import email.policy
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpers import add_edition
from sqlalchemy import func, insert, select

from digest.cli import main
from digest.compose.edition import Draft, compose
from digest.config import load_config
from digest.deliver.recipients import audience, record_personal_recipients
from digest.render.email import Identity, Rendered, render
from digest.settings import SegmentSettings
from digest.store.database import Store, open_store
from digest.store.models import (
    Article,
    ArticleTag,
    Batch,
    Delivery,
    Edition,
    EditionItem,
    EditionStatus,
    EditionVariant,
    Source,
)
from subscribers.models import Membership, Subscriber

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SEGMENT = "everything-weekly"


def personalise_segment(config: Path) -> None:
    body = config.read_text(encoding="utf-8")
    marker = f"[segments.{SEGMENT}]\n"
    config.write_text(body.replace(marker, marker + "personalised = true\n"), encoding="utf-8")


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_each_reader_gets_the_items_in_the_tags_they_follow(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    personalise_segment(newsroom)
    main(["run", "--config", str(newsroom), "--segment", SEGMENT])
    capsys.readouterr()
    config = load_config(newsroom)
    with open_store(config.database_url) as store, store.session() as session:
        edition = session.scalars(select(Edition).where(Edition.segment == SEGMENT)).one()
        assert edition.status == EditionStatus.sent
        items = session.execute(
            select(Article.title, Article.id)
            .join(EditionItem, EditionItem.article_id == Article.id)
            .where(EditionItem.edition_id == edition.id)
        ).all()
        tags = {a: set(session.get_one(Article, a).tag_names) for _, a in items}
        readers = {
            s.email: set(s.followed_tags)
            for s in session.scalars(
                select(Subscriber).join(Membership).where(Membership.list_name == SEGMENT)
            )
        }
        variants = session.scalars(
            select(EditionVariant).where(EditionVariant.edition_id == edition.id)
        ).all()
    folder = config.outbox_dir / SEGMENT / f"edition-{edition.id}"
    got = {}
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        got[str(message["To"].addresses[0].addr_spec)] = text_part(message)
    carried = set().union(*tags.values())
    followers_of_nothing_here = {e for e, f in readers.items() if f and not f & carried}
    assert set(got) == set(readers) - followers_of_nothing_here
    assert len(variants) == len(
        {frozenset(f & carried) for e, f in readers.items() if e in got and f}
    )
    for address, text in got.items():
        followed = readers[address]
        for title, article in items:
            wanted = not followed or bool(followed & tags[article])
            assert (title in text) == wanted, (address, title)
        if followed:
            assert "from the topics you follow: " + ", ".join(sorted(followed & carried)) in text


TAGS = [f"topic-{n:02d}" for n in range(12)]


def fill(store: Store, readers: int, rng: random.Random) -> list[frozenset[str]]:
    """Two articles per tag, and ``readers`` readers each following none, one or two tags."""
    follows: list[frozenset[str]] = []
    with store.session() as session:
        source = Source(name="wire", location="https://wire.example/")
        session.add(source)
        session.flush()
        for n in range(2 * len(TAGS)):
            session.add(
                Article(
                    source_id=source.id,
                    url=f"https://wire.example/{n}",
                    title=f"Story {n} on {TAGS[n % len(TAGS)]}",
                    content_hash=f"{n:064x}",
                    published_at=NOW - timedelta(hours=n),
                    first_seen_at=NOW - timedelta(hours=n),
                    text="A council voted on the budget. The plan passed.",
                    tags=[ArticleTag(tag=TAGS[n % len(TAGS)])],
                )
            )
        rows = []
        for n in range(readers):
            chosen = frozenset(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 2))))
            follows.append(chosen)
            rows.append(
                {
                    "email": f"reader{n}@readers.example",
                    "name": "",
                    "status": "active",
                    "timezone": "UTC",
                    "locale": "",
                    "followed_tags": sorted(chosen),
                    "attributes": {},
                    "signed_up_at": NOW,
                }
            )
        session.execute(insert(Subscriber), rows)
    return follows


def test_a_hundred_thousand_readers_over_twelve_tags_one_render_per_tag_set(
    store: Store,
) -> None:
    follows = fill(store, 100_000, random.Random(3))
    segment = SegmentSettings(name="all", max_items=24, personalised=True, lookback_days=30)
    renders: list[tuple[str, ...]] = []
    identity = Identity("Desk", "1 Street, Town", UTC)

    def counted(variant: Draft, topics: tuple[str, ...]) -> Rendered:
        renders.append(topics)
        return render(variant, identity, None, topics)

    with store.session() as session:
        draft = compose(session, segment, NOW)
        assert len(draft.items) == 24
        edition = add_edition(session, "all", "s", EditionStatus.sending, NOW)
        made = record_personal_recipients(
            session, edition.id, draft, audience(segment), 1000, counted
        )

    distinct = {f for f in follows if f}
    assert len(renders) == made.variants == len(distinct) == len(set(renders))
    assert made.recipients == len(follows) and made.left_out == 0
    with store.session() as session:
        variants = {
            v.id: (frozenset(v.topics.split(",")), v)
            for v in session.scalars(select(EditionVariant))
        }
        titles = {a.id: (a.title, set(a.tag_names)) for a in session.scalars(select(Article))}
        for topics, variant in variants.values():
            shown = [titles[int(i)] for i in variant.article_ids.split(",")]
            assert shown and all(topics & t for _, t in shown)  # only the followed tags
            assert len(shown) == 2 * len(topics)  # and every item in them
            assert all(title in variant.text for title, _ in shown)
        same_batch = (Batch.edition_id == Delivery.edition_id) & (Batch.number == Delivery.batch)
        rows = session.execute(
            select(Subscriber.followed_tags, Batch.variant_id, Batch.size)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .join(Batch, same_batch)
        ).all()
        assert len(rows) == len(follows)
        for followed, variant_id, size in rows:
            assert size <= 1000
            if followed:
                assert variants[variant_id][0] == frozenset(followed)
            else:
                assert variant_id is None  # the whole edition
        batches = session.scalar(select(func.count()).select_from(Batch))
    assert batches >= len(distinct)  # a batch never mixes two renders
