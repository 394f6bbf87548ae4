"""Folder sources: Markdown with front matter, JSON and JSON Lines articles."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import write_intake_config
from sqlalchemy import select

from digest.config import load_config
from digest.intake.fetch import Fetcher
from digest.intake.ingest import ingest_all
from digest.intake.sources.base import Harvest, HarvestContext, SourceProblem, SourceState
from digest.intake.sources.folder import FolderSource
from digest.settings import SourceSettings
from digest.store.database import Store
from digest.store.models import Article

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NOTES = Path(__file__).parent / "data" / "folders" / "notes"


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher() as shared:
        yield shared


def _harvest(path: Path, fetcher: Fetcher) -> Harvest:
    settings = SourceSettings(name="notes", kind="folder", path=str(path))
    context = HarvestContext(fetcher=fetcher, base_dir=path.parent, now=NOW)
    return FolderSource().harvest(settings, SourceState(str(path)), context)


def test_every_good_article_is_read_and_each_bad_one_is_one_line(fetcher: Fetcher) -> None:
    harvest = _harvest(NOTES, fetcher)
    assert sorted(e.url.rsplit("/", 1)[1] for e in harvest.entries) == [
        "court",
        "cranes",
        "dike-plan",
        "fusion",
        "harbour-library?utm_source=rss",
        "shadow-fleet",
    ]
    assert harvest.problems == [
        "broken-front-matter.md: invalid YAML front matter at line 3 "
        "(found unexpected end of stream); skipped",
        "no-front-matter.md: no front matter; start the file with --- lines holding title "
        "and url; skipped",
        "wire/agency.json item 2: no http(s) url; give each article a url to link to; skipped",
        "wire/agency.json item 3: not a JSON object; skipped",
        "wire/agency.json item 4: published 'last Tuesday' is not an ISO 8601 date, "
        "e.g. 2026-11-26T08:00:00Z; skipped",
        "wire/latin1.ndjson: not UTF-8 text (byte 77); save the file as UTF-8; skipped",
        "wire/stream.jsonl:3: invalid JSON (Expecting value, column 33); skipped",
        "wire/stream.jsonl:4: https://notes.example/wire/untitled has no title; "
        "give it a title; skipped",
    ]


def test_markdown_front_matter_and_body(fetcher: Fetcher) -> None:
    entries = {e.title: e for e in _harvest(NOTES, fetcher).entries}
    library = entries["Harbour Library Draws 40,000 Visitors in First Week"]
    assert library.declared_canonical == "https://notes.example/2026/11/harbour-library"
    assert library.published == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert library.author == "Maria Lopez"
    assert library.tags == ("culture", "helsinki", "us-politics")
    assert library.text.startswith("More than 40,000 people visited the new Kalasatama library")
    assert "**" not in library.text and "[according" not in library.text
    assert "<strong>first week</strong>" in library.html
    assert 'href="https://city.example/"' in library.html
    dikes = entries["Water Boards Approve Dike Plan"]
    assert dikes.author == "Pieter de Vries, Anna Jansen"
    assert dikes.published == datetime(2026, 11, 21, tzinfo=UTC)
    assert dikes.tags == ("climate", "netherlands")


def test_json_and_json_lines_fields(fetcher: Fetcher) -> None:
    entries = {e.url.rsplit("/", 1)[1]: e for e in _harvest(NOTES, fetcher).entries}
    fleet = entries["shadow-fleet"]
    assert fleet.author == "Ines Duarte, Tom Berg" and fleet.tags == ("europe", "russia")
    assert "<script" not in fleet.html and "Must Read" not in fleet.text
    assert fleet.text.endswith("would not change its policy.")
    cranes = entries["cranes"]
    assert cranes.text.count("\n\n") == 1 and cranes.tags == ("nature", "hungary")
    assert entries["court"].published == datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
    assert entries["fusion"].published is None and entries["fusion"].author == ""


def test_one_file_can_be_the_source(fetcher: Fetcher) -> None:
    harvest = _harvest(NOTES / "wire" / "stream.jsonl", fetcher)
    assert [e.title for e in harvest.entries] == [
        "Court to Hear Redistricting Case",
        "Fusion Test Holds Plasma for 12 Seconds",
    ]
    assert harvest.problems[0].startswith("stream.jsonl:3: invalid JSON")


def test_a_missing_or_useless_folder_fails_in_one_line(fetcher: Fetcher, tmp_path: Path) -> None:
    with pytest.raises(SourceProblem, match=r"absent \(no such folder\); check the path"):
        _harvest(tmp_path / "absent", fetcher)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an article", encoding="utf-8")
    with pytest.raises(SourceProblem, match=r"holds no \.md, \.json or \.jsonl files"):
        _harvest(tmp_path / "empty", fetcher)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(SourceProblem) as failure:
        _harvest(tmp_path / "bad", fetcher)
    assert str(failure.value) == (
        "no article could be read (1 problems; first: a.json:1: invalid JSON "
        "(Expecting property name enclosed in double quotes, column 2); skipped)"
    )


def test_ingest_stores_the_folder_once(store: Store, tmp_path: Path) -> None:
    shutil.copytree(NOTES, tmp_path / "notes")
    config_path = write_intake_config(
        tmp_path / "digest.toml",
        '[sources.notes]\nkind = "folder"\npath = "notes"\n'
        '[sources.gone]\nkind = "folder"\npath = "missing"\n',
    )
    config = load_config(config_path)
    first = {r.source: r for r in ingest_all(store, config, NOW)}
    (tmp_path / "notes" / "wire" / "single.json").write_text(
        '{"title": "Volunteers Count Record Cranes", "url": "https://notes.example/wire/cranes",'
        ' "text": "Volunteers counted a record 215,000 cranes on a single morning last week."}',
        encoding="utf-8",
    )
    second = {r.source: r for r in ingest_all(store, config, NOW)}
    assert first["notes"].line == "ok notes 6 new, 0 updated"
    assert second["notes"].line == "ok notes 0 new, 1 updated"
    assert first["gone"].line.startswith("error gone cannot read folder ")
    with store.session() as session:
        urls = set(session.scalars(select(Article.url)))
        assert "https://notes.example/2026/11/harbour-library" in urls  # its canonical
        cranes = session.scalars(
            select(Article).where(Article.url == "https://notes.example/wire/cranes")
        ).one()
        assert "215,000" in cranes.text
