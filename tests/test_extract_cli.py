"""``digest extract``: pages and feeds to JSON Lines, with no config and no store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from feedserver import Route, serve
from helpers import EXAMPLE

from digest.commands.intake import extract

PAGES = Path(__file__).parent / "data" / "pages"
SEED_PAGE = PAGES / "seed-article.html"
FEED = EXAMPLE / "feeds" / "talking-democrat.xml"
KEYS = ["source", "url", "title", "published", "authors", "tags", "text", "image", "cluster"]


def _run(*args: str) -> Result:
    return CliRunner().invoke(extract, list(args))


def test_digest_has_the_command() -> None:
    from digest.cli import cli

    result = CliRunner().invoke(cli, ["extract", "--help"])
    assert result.exit_code == 0 and "FILE_OR_URL..." in result.output


def _records(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_feed_gives_one_object_per_entry_and_a_page_one_object() -> None:
    result = _run(str(FEED), str(SEED_PAGE))
    assert result.exit_code == 0, result.output
    records = _records(result)
    from_feed = [r for r in records if r["source"] == str(FEED)]
    from_page = [r for r in records if r["source"] == str(SEED_PAGE)]
    assert len(from_feed) == 13 and len(from_page) == 1
    for record in records:
        assert list(record) == KEYS
        assert record["url"].startswith("https://") and record["title"]
        assert isinstance(record["authors"], list) and isinstance(record["tags"], list)
        assert record["text"] and "\n\n" in record["text"]
    page = from_page[0]
    assert page["url"] == (
        "https://talkingdemocrat.example/2026/11/putin-russian-interference-inventions-of-trump-opponents/"
    )
    assert page["published"] == "2026-11-26T04:10:00+00:00"
    assert page["authors"] == ["Andrei Santov"]
    assert {"russia", "us-politics"} <= set(page["tags"])
    assert page["text"].startswith("Russian President Vladimir Putin ruled Thursday")
    assert "Must Read" not in page["text"] and "sociologist" not in page["text"]
    seed_in_feed = next(r for r in from_feed if r["url"] == page["url"])
    assert seed_in_feed["text"] == page["text"]  # the feed's copy cleans to the same text


def test_failures_are_one_line_each_and_the_rest_is_printed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><title>half", encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = _run("nope.html", str(broken), str(SEED_PAGE), str(empty), "ftp://example.com/x")
    assert result.exit_code == 1
    assert len(_records(result)) == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 4
    assert errors[0].startswith("error nope.html cannot read ") and errors[0].endswith(
        "(No such file or directory); check the path"
    )
    assert errors[1].startswith(f"error {broken} ") and "the XML is malformed" in errors[1]
    assert errors[2] == f"error {empty} is empty; check that it is a feed or a web page"
    assert errors[3] == (
        "error ftp://example.com/x is neither an http(s) URL nor a file; check the argument"
    )


def test_no_argument_is_a_usage_error() -> None:
    result = _run()
    assert result.exit_code == 2
    assert "Missing argument 'FILE_OR_URL...'" in result.stderr


def test_urls_are_fetched_and_told_apart_by_content_not_content_type() -> None:
    with serve() as server:
        server.routes["/page"] = Route(SEED_PAGE.read_bytes(), content_type="text/plain")
        server.routes["/feed"] = Route(FEED.read_bytes(), content_type="text/html")
        guarded = _run(f"{server.url}/page")
        allowed = _run("--allow-private", f"{server.url}/page", f"{server.url}/feed")
    assert guarded.exit_code == 1 and guarded.stdout == ""
    assert guarded.stderr.startswith(f"error {server.url}/page refused {server.url}/page")
    assert allowed.exit_code == 0, allowed.stderr
    records = _records(allowed)
    assert [r["source"] for r in records] == [f"{server.url}/page"] + [f"{server.url}/feed"] * 13
    assert records[0]["title"].startswith("Putin: Russian Interference")


def test_copies_of_one_story_share_a_cluster() -> None:
    records = _records(_run(str(FEED), str(SEED_PAGE)))
    page = records[-1]
    same = [r for r in records[:-1] if r["cluster"] == page["cluster"]]
    assert [r["url"] for r in same] == [page["url"]]
    assert len({r["cluster"] for r in records[:-1]}) == 13


def test_the_bbc_business_004_page_starts_with_its_lead_not_its_caption() -> None:
    page = (
        EXAMPLE.parent.parent / "benchmarks" / "data" / "pages" / "bbc-business-004-wordpress.html"
    )
    result = _run(str(page))
    assert result.exit_code == 0, result.output
    text = json.loads(result.stdout.splitlines()[0])["text"]
    assert text.startswith("British Airways has blamed high fuel prices for a 40% drop in profits.")
    assert "pictured" not in text


def test_the_example_feeds_keep_no_caption_whose_credit_was_removed() -> None:
    for feed in sorted((EXAMPLE / "feeds").glob("*")):
        result = _run(str(feed))
        assert result.exit_code == 0, result.output
        for line in result.stdout.splitlines():
            text = json.loads(line)["text"]
            assert "Technicians repair a high-voltage line" not in text
            assert "A reader in the rooftop reading room" not in text
