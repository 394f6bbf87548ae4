"""`digest pin`, `digest exclude` and `digest preview`: a pin says at once whether it can
work, and the preview names every pinned article it leaves out, and how it orders items."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from sqlalchemy import func, select

from digest.config import load_config
from digest.store.database import open_store
from digest.store.models import Article, Edition, EditionItem, EditorAction, EditorChoice

POLITICS = "politics-daily"


def preview_json(capsys: pytest.CaptureFixture[str], config: Path, segment: str) -> Any:
    code, out, err = run_cli(
        capsys, "preview", "--config", str(config), "--segment", segment, "--json"
    )
    assert code == 0, err
    return json.loads(out)


def sent_items(config: Path, segment: str) -> list[tuple[int, int, str]]:
    """(edition id, article id, title) of every item the segment's editions carried."""
    with open_store(load_config(config).database_url) as store, store.session() as session:
        rows = session.execute(
            select(Edition.id, Article.id, Article.title)
            .join(EditionItem, EditionItem.edition_id == Edition.id)
            .join(Article, Article.id == EditionItem.article_id)
            .where(Edition.segment == segment)
            .order_by(EditionItem.position)
        )
        return [(e, a, t) for e, a, t in rows]


def stored_choices(config: Path) -> list[tuple[str, int, EditorAction]]:
    with open_store(load_config(config).database_url) as store, store.session() as session:
        return [(c.segment, c.article_id, c.action) for c in session.scalars(select(EditorChoice))]


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def test_pinning_an_article_the_segment_already_sent_is_refused_and_says_where(
    capsys: pytest.CaptureFixture[str], newsroom: Path
) -> None:
    assert run_cli(capsys, "run", "--config", str(newsroom), "--segment", POLITICS)[0] == 0
    edition, article, title = sent_items(newsroom, POLITICS)[0]
    told = (
        f"#{article} {title!r} already went out in {POLITICS}'s edition {edition} ({today()}); "
        "a segment never sends an article twice"
    )

    code, out, err = run_cli(
        capsys, "pin", "--config", str(newsroom), "--segment", POLITICS, str(article)
    )
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"error: not pinned: {told}"]

    code, out, err = run_cli(
        capsys, "exclude", "--config", str(newsroom), "--segment", POLITICS, str(article)
    )
    assert (code, out, err) == (0, f"nothing to exclude: {told}\n", "")
    assert stored_choices(newsroom) == []


def test_preview_names_a_pinned_article_it_leaves_out_and_the_next_edition_clears_it(
    capsys: pytest.CaptureFixture[str], newsroom: Path
) -> None:
    assert run_cli(capsys, "run", "--config", str(newsroom), "--segment", POLITICS)[0] == 0
    edition, article, title = sent_items(newsroom, POLITICS)[0]
    # A pin of a sent article, as one recorded before pins were checked would be.
    with open_store(load_config(newsroom).database_url) as store, store.session() as session:
        session.add(
            EditorChoice(
                segment=POLITICS,
                article_id=article,
                action=EditorAction.pin,
                created_at=datetime.now(UTC),
            )
        )
    reason = (
        f"already went out in {POLITICS}'s edition {edition} ({today()}); "
        "the next edition clears this pin"
    )

    code, out, _ = run_cli(capsys, "preview", "--config", str(newsroom), "--segment", POLITICS)
    assert code == 0
    assert out.splitlines()[-2:] == [
        f"pinned #{article} {title} is left out: {reason}",
        f"no new articles since {out.splitlines()[-1].removeprefix('no new articles since ')}",
    ]
    shown = preview_json(capsys, newsroom, POLITICS)
    assert shown["pins_left_out"] == [{"article_id": article, "title": title, "reason": reason}]

    # Another pin makes an edition: recording it uses up both pins.
    sent = {a for _, a, _ in sent_items(newsroom, POLITICS)}
    with open_store(load_config(newsroom).database_url) as store, store.session() as session:
        unsent = session.scalar(select(func.min(Article.id)).where(Article.id.not_in(sent)))
    assert unsent is not None
    code, out, _ = run_cli(
        capsys, "pin", "--config", str(newsroom), "--segment", POLITICS, str(unsent)
    )
    assert code == 0
    code, _, err = run_cli(
        capsys, "send", "--config", str(newsroom), "--segment", POLITICS, "--slot", "second"
    )
    assert code == 0, err
    assert [a for e, a, _ in sent_items(newsroom, POLITICS) if e != edition] == [unsent]
    assert stored_choices(newsroom) == []


def test_a_pin_says_what_it_overrides(capsys: pytest.CaptureFixture[str], newsroom: Path) -> None:
    assert run_cli(capsys, "ingest", "--config", str(newsroom))[0] == 0
    with open_store(load_config(newsroom).database_url) as store, store.session() as session:
        housing = session.scalars(
            select(Article).where(Article.title.like("Mortgage Rates%"))
        ).one()
        article, title, tags = housing.id, housing.title, set(housing.tag_names)
    include = load_config(newsroom).segment(POLITICS).include_tags
    assert not tags & set(include)

    code, out, _ = run_cli(
        capsys, "pin", "--config", str(newsroom), "--segment", POLITICS, str(article)
    )

    assert code == 0
    assert out.splitlines() == [
        f"pin #{article} {title} for {POLITICS}'s next edition",
        f"  note: it carries none of the segment's include_tags ({', '.join(include)}): "
        "the pin puts it in anyway",
    ]
    shown = preview_json(capsys, newsroom, POLITICS)
    assert shown["items"][0]["article_id"] == article and shown["pins_left_out"] == []


def test_a_pinned_report_stands_for_its_story(
    capsys: pytest.CaptureFixture[str], newsroom: Path
) -> None:
    assert run_cli(capsys, "ingest", "--config", str(newsroom))[0] == 0
    before = preview_json(capsys, newsroom, "tech-weekly")
    same = [d for d in before["dropped"] if d["reason"].startswith("same story as #")]
    assert same, before["dropped"]
    other = same[0]["article_id"]
    best = int(re.match(r"same story as #(\d+)", same[0]["reason"]).group(1))  # type: ignore[union-attr]

    code, _, _ = run_cli(
        capsys, "pin", "--config", str(newsroom), "--segment", "tech-weekly", str(other)
    )
    assert code == 0
    after = preview_json(capsys, newsroom, "tech-weekly")

    assert after["items"][0]["article_id"] == other
    assert after["items"][0]["reason"].startswith("pinned by the editor")
    assert best not in {i["article_id"] for i in after["items"]}
    reasons = {d["article_id"]: d["reason"] for d in after["dropped"]}
    assert reasons[best].startswith(f"same story as #{other} ")
    assert after["pins_left_out"] == []


def test_preview_says_its_order_is_the_pick_order_and_one_line_when_nothing_is_new(
    capsys: pytest.CaptureFixture[str], newsroom: Path
) -> None:
    assert run_cli(capsys, "ingest", "--config", str(newsroom))[0] == 0
    code, out, _ = run_cli(capsys, "preview", "--config", str(newsroom), "--segment", POLITICS)
    assert code == 0
    lines = out.splitlines()
    # The scores as composed, not as printed to four places: all decay with the same clock,
    # so their order holds, where two printed ones may round to the same figure.
    code, data, _ = run_cli(
        capsys, "preview", "--json", "--config", str(newsroom), "--segment", POLITICS
    )
    scores = [item["score"] for item in json.loads(data)["items"]]
    assert any(later > earlier for earlier, later in pairwise(scores))
    assert lines[0] == (
        f"{POLITICS}: 8 items in the order picked: each time the best score less its tag "
        "overlap with the items above (diversity 0.3); so a score can be higher than the one "
        "above it"
    )

    assert run_cli(capsys, "send", "--config", str(newsroom), "--segment", POLITICS)[0] == 0
    code, out, _ = run_cli(capsys, "preview", "--config", str(newsroom), "--segment", POLITICS)
    assert code == 0
    assert re.fullmatch(r"no new articles since \d{4}-\d\d-\d\d \d\d:\d\d \S+\n", out), out


def test_a_pin_says_when_it_replaces_an_exclusion_or_repeats_a_story(
    capsys: pytest.CaptureFixture[str], newsroom: Path
) -> None:
    tech = "tech-weekly"
    assert run_cli(capsys, "run", "--config", str(newsroom), "--segment", tech)[0] == 0
    sent = {article: edition for edition, article, _ in sent_items(newsroom, tech)}
    with open_store(load_config(newsroom).database_url) as store, store.session() as session:
        stories = {a: c for a, c in session.execute(select(Article.id, Article.cluster_id))}
        titles = {a: t for a, t in session.execute(select(Article.id, Article.title))}
    carried, cousin = next(
        (carried, other)
        for carried in sent
        for other, story in stories.items()
        if other not in sent and story is not None and story == stories[carried]
    )
    title = titles[cousin]
    config = ["--config", str(newsroom), "--segment", tech, str(cousin)]
    assert run_cli(capsys, "exclude", *config)[0] == 0

    code, out, _ = run_cli(capsys, "pin", *config)

    assert code == 0
    assert out.splitlines() == [
        f"pin #{cousin} {title} for {tech}'s next edition",
        "  note: it was excluded; this replaces that",
        f"  note: #{carried}, a report of the same story, went out in edition "
        f"{sent[carried]}: the pin puts this one in anyway",
    ]
    assert stored_choices(newsroom) == [(tech, cousin, EditorAction.pin)]
