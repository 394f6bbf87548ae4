from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import EXAMPLE, add_edition, run_segment
from sqlalchemy import func, select

from digest.cli import main
from digest.compose import summary_cache
from digest.compose.candidate import Candidate
from digest.compose.edition import compose
from digest.compose.editor_choices import UnknownArticleError, choose_article
from digest.compose.pick import choose
from digest.compose.pool import Pool
from digest.compose.rank import RecencyTagRanker, Scored
from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.settings import SegmentSettings
from digest.store.database import Store, open_store
from digest.store.engagement import record_click, record_opens
from digest.store.models import (
    Article,
    ArticleTag,
    Edition,
    EditionItem,
    EditionStatus,
    EditorAction,
    EditorChoice,
    Source,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def article(
    ident: int, hours: float, tags: tuple[str, ...] = (), source: str = "a", story: int = 0
) -> Candidate:
    stored = Article(
        id=ident,
        url=f"https://{source}.example/{ident}",
        title=f"Story {ident}",
        text="",
        content_hash=f"{ident:064x}",
        published_at=NOW - timedelta(hours=hours),
        first_seen_at=NOW - timedelta(hours=hours),
        cluster_id=story or None,
        source=Source(name=source, title=source.upper(), location=""),
        tags=[ArticleTag(tag=t) for t in tags],
    )
    return Candidate.of(stored)


def test_recency_halves_every_half_life() -> None:
    fresh, day_old = article(1, 0), article(2, 24)
    ranked = RecencyTagRanker().rank([day_old, fresh], SegmentSettings(name="s"), NOW)
    assert [s.article.id for s in ranked] == [1, 2]
    assert ranked[0].parts["recency"] == 1.0 and ranked[1].parts["recency"] == 0.5
    slower = RecencyTagRanker().rank([day_old], SegmentSettings(name="s", half_life_hours=48), NOW)
    assert slower[0].parts["recency"] == pytest.approx(0.5**0.5, abs=1e-6)


def test_tag_match_weight_engagement_and_boost_are_visible_parts() -> None:
    segment = SegmentSettings(name="s", include_tags=("politics", "russia"))
    both, one, none = (
        article(1, 0, ("politics", "russia")),
        article(2, 0, ("politics",)),
        article(3, 0),
    )
    ranked = {s.article.id: s for s in RecencyTagRanker().rank([both, one, none], segment, NOW)}
    assert [ranked[i].parts["tag_match"] for i in (1, 2, 3)] == [1.0, 0.5, 0.0]
    assert [ranked[i].score for i in (1, 2, 3)] == [1.0, 0.75, 0.5]
    assert "tagged politics, russia" in ranked[1].reason
    ranker = RecencyTagRanker({"heavy": 2.0}, {2: 0.25}, {3: 5.0})
    heavy = article(1, 24, source="heavy")
    parts = {
        s.article.id: s
        for s in ranker.rank([heavy, article(2, 0), article(3, 0)], SegmentSettings(name="s"), NOW)
    }
    assert parts[1].score == 1.0 and parts[1].parts["source_weight"] == 2.0
    assert parts[2].score == 1.25 and parts[2].parts["engagement"] == 0.25
    assert "click rate 25%" in parts[2].reason
    assert parts[3].score == 6.0 and parts[3].parts["boost"] == 5.0
    assert set(parts[3].parts) == {"recency", "tag_match", "source_weight", "engagement", "boost"}


def ranked(*articles: Candidate) -> list[Scored]:
    return RecencyTagRanker().rank(articles, SegmentSettings(name="s"), NOW)


def test_source_cap_leaves_the_rest_with_a_reason() -> None:
    segment = SegmentSettings(name="s", max_per_source=2, diversity=0)
    picks, dropped = choose(
        ranked(*(article(i, i) for i in range(1, 5)), article(9, 9, source="b")), segment
    )
    assert [p.scored.article.id for p in picks] == [1, 2, 9]
    assert {d.article_id: d.reason for d in dropped} == {
        3: "source cap: already 2 from A",
        4: "source cap: already 2 from A",
    }


def test_below_the_cut_and_pins_lead() -> None:
    segment = SegmentSettings(name="s", max_items=2, diversity=0)
    picks, dropped = choose(ranked(*(article(i, i) for i in range(1, 5))), segment, pinned={4})
    assert [p.scored.article.id for p in picks] == [4, 1]
    assert picks[0].reason.startswith("pinned by the editor")
    assert [(d.article_id, d.reason) for d in dropped] == [
        (2, "below the cut: room for 2 items"),
        (3, "below the cut: room for 2 items"),
    ]


def test_diversity_passes_over_a_topic_already_covered() -> None:
    stories = ranked(
        article(1, 0, ("politics",)), article(2, 1, ("politics",)), article(3, 2, ("science",))
    )
    plain, _ = choose(stories, SegmentSettings(name="s", max_items=2, diversity=0))
    varied, dropped = choose(stories, SegmentSettings(name="s", max_items=2, diversity=0.5))
    assert [p.scored.article.id for p in plain] == [1, 2]
    assert [p.scored.article.id for p in varied] == [1, 3]
    assert [d.article_id for d in dropped] == [2]


def test_compose_collapses_a_story_and_says_so(store: Store) -> None:
    ingest_all(store, load_config(EXAMPLE / "digest.toml"), NOW)
    segment = SegmentSettings(name="s", max_items=5, lookback_days=30)
    with store.session() as session:
        draft = compose(session, segment, NOW)
    reasons = [d.reason for d in draft.dropped]
    assert len(draft.items) == 5 and len(draft.dropped) == 37 - 5
    assert sum(r.startswith("same story as #") for r in reasons) == 1
    assert sum(r.startswith("below the cut") for r in reasons) == 31
    shown = {i.article_id for i in draft.items}
    assert not shown & {d.article_id for d in draft.dropped}
    assert all(set(i.parts) >= {"recency", "tag_match", "source_weight"} for i in draft.items)


def test_pins_lead_and_excludes_are_left_out_until_an_edition_uses_them(
    newsroom: Path,
) -> None:
    config = load_config(newsroom)
    segment = replace(config.segment("politics-daily"), max_items=3)
    with open_store(config.database_url) as store:
        ingest_all(store, config, NOW)
        with store.session() as session:
            before = compose(session, segment, NOW)
            last = before.dropped[-1]
            choose_article(session, segment.name, str(last.article_id), EditorAction.pin, NOW)
            choose_article(session, segment.name, before.items[0].url, EditorAction.exclude, NOW)
        with store.session() as session:
            after = compose(session, segment, NOW)
        assert after.items[0].article_id == last.article_id
        assert after.items[0].reason.startswith("pinned by the editor")
        assert before.items[0].article_id not in {i.article_id for i in after.items}
        reasons = {d.article_id: d.reason for d in after.dropped}
        assert reasons[before.items[0].article_id] == "excluded by the editor"
        report = run_segment(store, config, "outbox", segment, NOW, "one")
        assert report.items == 3 and not report.failed
        with store.session() as session:
            assert session.scalars(select(EditorChoice)).all() == []
        with (
            pytest.raises(UnknownArticleError, match="no stored article 'https://nowhere"),
            store.session() as session,
        ):
            choose_article(session, "s", "https://nowhere.example/", EditorAction.pin, NOW)


def test_too_few_items_wait_for_the_next_run(newsroom: Path) -> None:
    config = load_config(newsroom)
    segment = config.segment("politics-daily")
    with open_store(config.database_url) as store:
        ingest_all(store, config, NOW)
        with store.session() as session:
            count = len(compose(session, segment, NOW).items)
        waiting = run_segment(store, config, "outbox", replace(segment, min_items=99), NOW, "a")
        assert waiting.note == f"only {count} new items; waiting for 99"
        with store.session() as session:
            assert session.scalar(select(func.count(Edition.id))) == 0
        later = NOW + timedelta(hours=1)
        sent = run_segment(store, config, "outbox", segment, later, "b")
        assert sent.items == count and not sent.note  # the same articles, one run later


def test_preview_json_records_nothing(newsroom: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", "--config", str(newsroom)])
    capsys.readouterr()
    main(["preview", "--config", str(newsroom), "--segment", "politics-daily", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["items"] and shown["dropped"]
    assert set(shown["items"][0]["parts"]) >= {"recency", "tag_match", "engagement"}
    assert all(i["reason"] and i["summary"] for i in shown["items"])
    assert all(d["reason"] for d in shown["dropped"])
    html = Path(shown["html"])
    assert html.name == "preview-politics-daily.html" and "<html" in html.read_text("utf-8")
    main(["preview", "--config", str(newsroom), "--segment", "politics-daily"])
    text = capsys.readouterr().out
    assert "1. [" in text and "why: " in text and f"preview: {html}" in text
    config = load_config(newsroom)
    with open_store(config.database_url) as store, store.session() as session:
        assert session.scalar(select(func.count(Edition.id))) == 0


class CountingSummariser:
    def __init__(self) -> None:
        self.calls = 0

    def summarise(self, title: str, text: str, words: int) -> str:
        self.calls += 1
        return text[:words]


def test_summaries_are_made_once_per_article_text_and_budget() -> None:
    summary_cache.clear()
    counting, one = CountingSummariser(), replace(article(1, 0), content_hash="a" * 64)
    first = summary_cache.summary(counting, one, "First version.", 5)
    assert summary_cache.summary(counting, one, "First version.", 5) == first == "First"
    assert counting.calls == 1
    summary_cache.summary(counting, one, "First version.", 6)
    assert summary_cache.cached(counting, one, 6) == "First "
    two = replace(one, content_hash="b" * 64)
    assert summary_cache.cached(counting, two, 6) is None
    assert summary_cache.summary(counting, two, "Second version.", 6) == "Second"
    assert counting.calls == 3
    unversioned = replace(one, content_hash="")  # no hash: never taken from the cache
    summary_cache.summary(counting, unversioned, "First version.", 5)
    summary_cache.summary(counting, unversioned, "First version.", 5)
    assert counting.calls == 5
    summary_cache.clear()


def test_click_rate_from_earlier_editions_raises_the_score(store: Store) -> None:
    ingest_all(store, load_config(EXAMPLE / "digest.toml"), NOW)
    segment = SegmentSettings(name="s", max_items=50, lookback_days=30, diversity=0)
    with store.session() as session:
        before = {i.article_id: i for i in compose(session, segment, NOW).items}
        last = list(before.values())[-1]
        edition = add_edition(session, "other", "x", EditionStatus.sent, NOW)
        session.add(
            EditionItem(
                edition_id=edition.id, article_id=last.article_id, position=1, score=0, summary=""
            )
        )
        session.flush()
        record_opens(session, edition.id, 4, NOW)
        record_click(session, edition.id, last.article_id, NOW)
    with store.session() as session:
        after = {i.article_id: i for i in compose(session, segment, NOW).items}
    raised = after[last.article_id]
    assert raised.parts["engagement"] == 0.25 and "click rate 25%" in raised.reason
    assert raised.score == pytest.approx(last.score * 1.25, abs=1e-5)


def test_one_pool_for_every_segment_composes_what_a_pool_per_segment_does(
    newsroom: Path,
) -> None:
    config = load_config(newsroom)
    segments = list(config.segments.values())
    with open_store(config.database_url) as store:
        ingest_all(store, config, NOW)
        run_segment(store, config, "outbox", segments[0], NOW, "one")  # now it has a history
        later = NOW + timedelta(days=1)
        with store.session() as session:
            shared = Pool.load(session, segments, later)
            for segment in segments:
                alone = compose(session, segment, later)
                together = compose(session, segment, later, pool=shared)
                assert together.items == alone.items
                assert together.dropped == alone.dropped
                assert together.since == alone.since
        assert shared.history(segments[0].name).cutoff == NOW
        assert shared.history(segments[1].name).cutoff is None
