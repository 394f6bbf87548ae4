from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from helpers import EXAMPLE, add_edition

from digest.compose.edition import compose
from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import EditionItem, EditionStatus
from subscribers.audience import Rule, audience
from subscribers.importer import SubscriberRow, merge

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def loaded(store: Store) -> None:
    ingest_all(store, load_config(EXAMPLE / "digest.toml"), NOW)


def test_tags_included_and_excluded(store: Store) -> None:
    loaded(store)
    base = SegmentSettings(name="s", max_items=50, lookback_days=30)
    with store.session() as session:
        everything = compose(session, base, NOW).items
        tech = compose(session, replace(base, include_tags=("technology",)), NOW).items
        no_tech = compose(session, replace(base, exclude_tags=("technology",)), NOW).items
    assert len(everything) == 36  # 37 articles; two outlets' reports of one story are one item
    assert [len(i.also) for i in everything].count(1) == 1
    assert tech and all("technology" in i.tags for i in tech)
    assert no_tech and not any("technology" in i.tags for i in no_tech)
    assert len(tech) + len(no_tech) == len(everything)


def test_ranking_prefers_recent_and_better_matched(store: Store) -> None:
    loaded(store)
    segment = SegmentSettings(
        name="s", include_tags=("politics", "russia"), max_items=50, diversity=0
    )
    with store.session() as session:
        items = compose(session, segment, NOW).items
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    top = items[0]
    assert "putin-russian-interference" in top.url  # newest, and matches both tags
    assert top.parts["tag_match"] == 1.0 and 0 < top.parts["recency"] <= 1
    assert "tagged politics, russia" in top.reason


def test_lookback_window_and_max_items(store: Store) -> None:
    loaded(store)
    with store.session() as session:
        recent = compose(session, SegmentSettings(name="s", lookback_days=1, max_items=50), NOW)
        capped = compose(session, SegmentSettings(name="s", max_items=3), NOW)
    assert recent.items and all(NOW - i.published <= timedelta(days=1) for i in recent.items)
    assert len(capped.items) == 3


def test_summary_fits_the_word_budget(store: Store) -> None:
    loaded(store)
    with store.session() as session:
        segment = SegmentSettings(name="s", max_items=50, summary_words=40, lead_summary_words=70)
        lead, *items = compose(session, segment, NOW).items
    assert 40 < len(lead.summary.split()) <= 71  # the lead story's longer budget
    for item in items:
        assert 0 < len(item.summary.split()) <= 41
        assert item.summary != item.title


def test_articles_seen_before_the_last_edition_are_not_new(store: Store) -> None:
    loaded(store)
    segment = SegmentSettings(name="s", max_items=2)
    with store.session() as session:
        draft = compose(session, segment, NOW)
        edition = add_edition(session, "s", "x", EditionStatus.sent, NOW, sent_at=NOW, subject="s")
        session.add_all(
            EditionItem(
                edition_id=edition.id, article_id=i.article_id, position=n, score=0, summary=""
            )
            for n, i in enumerate(draft.items)
        )
    with store.session() as session:
        later = compose(session, segment, NOW + timedelta(hours=1))
    assert later.items == () and later.since == NOW


def test_audience_by_list_and_attribute_rule(store: Store) -> None:
    rows = [
        SubscriberRow("a@example.com", lists=("news",), locale="de-DE"),
        SubscriberRow("b@example.com", lists=("news",), locale="en-GB", attributes={"plan": "pro"}),
        SubscriberRow("c@example.com", lists=("other",), attributes={"plan": "pro"}),
    ]
    with store.session() as session:
        merge(session, rows, NOW)
        assert [s.email for s in audience(session, Rule(lists=("news",)))] == [
            "a@example.com",
            "b@example.com",
        ]
        assert [s.email for s in audience(session, Rule(where={"plan": "pro"}))] == [
            "b@example.com",
            "c@example.com",
        ]
        assert [
            s.email for s in audience(session, Rule(lists=("news",), where={"locale": "de-DE"}))
        ] == ["a@example.com"]
