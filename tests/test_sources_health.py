"""Source health (failures count, pause, resume) and the `digest ingest` / `digest sources` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from badserver import BadServer, Reply, serve
from click.testing import CliRunner, Result
from helpers import EXAMPLE, use_database, write_intake_config
from sqlalchemy import select

from digest.cli import cli
from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.intake.sources import KINDS
from digest.intake.sources.base import Harvest, HarvestContext, SourceKind, SourceState
from digest.settings import SourceSettings
from digest.store.database import Store
from digest.store.models import Source, SourceStatus

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
GOOD = (EXAMPLE / "feeds" / "techwire.atom").resolve()


@pytest.fixture
def server() -> Iterator[BadServer]:
    with serve() as running:
        running.routes["/good.xml"] = Reply(GOOD.read_bytes(), content_type="application/atom+xml")
        running.routes["/flaky.xml"] = Reply(b"down for maintenance", status=503)
        yield running


def write_config(tmp_path: Path, database_url: str, body: str) -> Path:
    intake = "[intake]\nhost_delay = 0\ntimeout = 2\nmax_failures = 3\n"
    path = write_intake_config(tmp_path / "digest.toml", intake + body)
    use_database(path, database_url)
    return path


def sources_body(server: BadServer) -> str:
    return (
        f'[sources.good]\npath = "{GOOD}"\n'
        f'[sources.flaky]\nurl = "{server.url}/flaky.xml"\nallow_private = true\n'
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def row(store: Store, name: str) -> Source:
    with store.session() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


def test_failures_pause_a_source_until_it_is_resumed(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    path = write_config(tmp_path, database_url, sources_body(server))
    config = load_config(path)
    lines = [ingest_all(store, config, NOW)[1].line for _ in range(4)]
    failure = f"error flaky HTTP 503 Whatever from {server.url}/flaky.xml"
    assert lines[0].startswith(failure) and lines[1].startswith(failure)
    assert lines[2].endswith(
        "(now paused after 3 consecutive failures; fix it, then `digest sources --resume flaky`)"
    )
    assert lines[3].startswith("error flaky paused after 3 consecutive failures (last: HTTP 503")
    assert server.paths().count("/flaky.xml") == 3  # the paused source was not asked
    paused = row(store, "flaky")
    assert (paused.status, paused.consecutive_failures) == (SourceStatus.paused, 3)
    assert paused.last_success_at is None and "HTTP 503" in paused.last_error

    server.routes["/flaky.xml"] = server.routes["/good.xml"]
    resumed = run("sources", "--config", str(path), "--resume", "flaky")
    assert resumed.exit_code == 0
    assert resumed.output == "resumed flaky (it was paused); the next ingest fetches it\n"
    assert run("sources", "--config", str(path), "--resume", "flaky").output == (
        "flaky is active already\n"
    )
    assert ingest_all(store, config, NOW)[1].line.startswith("ok flaky ")
    healthy = row(store, "flaky")
    assert (healthy.status, healthy.consecutive_failures, healthy.last_error) == (
        SourceStatus.active,
        0,
        "",
    )
    assert healthy.last_success_at == NOW


def test_a_success_resets_the_count_of_consecutive_failures(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    config = load_config(write_config(tmp_path, database_url, sources_body(server)))
    failing = server.routes["/flaky.xml"]
    for reply in (failing, failing, server.routes["/good.xml"], failing, failing):
        server.routes["/flaky.xml"] = reply
        ingest_all(store, config, NOW)
    assert row(store, "flaky").consecutive_failures == 2
    assert row(store, "flaky").status == SourceStatus.active


def test_a_url_changed_in_the_config_is_fetched_and_wakes_a_paused_source(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    config = load_config(write_config(tmp_path, database_url, sources_body(server)))
    for _ in range(3):
        ingest_all(store, config, NOW)
    assert row(store, "flaky").status == SourceStatus.paused

    fixed = sources_body(server).replace("/flaky.xml", "/good.xml")
    config = load_config(write_config(tmp_path, database_url, fixed))
    assert ingest_all(store, config, NOW)[1].line.startswith("ok flaky 0 new")  # same articles
    assert server.paths().count("/good.xml") == 1
    moved = row(store, "flaky")
    assert moved.location == moved.configured == f"{server.url}/good.xml"
    assert (moved.status, moved.consecutive_failures, moved.last_error) == (
        SourceStatus.active,
        0,
        "",
    )


def test_a_permanent_redirect_is_followed_until_the_config_itself_changes(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    server.routes["/old.xml"] = Reply(status=301, headers={"Location": "/good.xml"})
    body = f'[sources.moving]\nurl = "{server.url}/old.xml"\nallow_private = true\n'
    config = load_config(write_config(tmp_path, database_url, body))
    assert ingest_all(store, config, NOW)[0].line.startswith("ok moving ")
    ingest_all(store, config, NOW)
    assert server.paths().count("/old.xml") == 1  # the move is remembered...
    assert row(store, "moving").location == f"{server.url}/good.xml"
    assert row(store, "moving").configured == f"{server.url}/old.xml"  # ...apart from the config

    server.routes["/new.xml"] = server.routes["/good.xml"]
    config = load_config(write_config(tmp_path, database_url, body.replace("old", "new")))
    ingest_all(store, config, NOW)
    assert server.paths()[-1] == "/new.xml"
    assert row(store, "moving").location == f"{server.url}/new.xml"


def test_sources_lists_every_source_with_its_health(
    server: BadServer, tmp_path: Path, database_url: str
) -> None:
    body = sources_body(server) + '[sources.later]\nurl = "https://later.example/feed"\n'
    path = write_config(tmp_path, database_url, body)
    run("ingest", "--config", str(path), "good", "flaky")
    table = run("sources", "--config", str(path))
    assert table.exit_code == 0
    header, good, flaky, later = table.output.splitlines()
    assert header.split() == [
        "source",
        "kind",
        "status",
        "last",
        "success",
        "failures",
        "location",
        "last",
        "error",
    ]
    parts = good.split()
    assert parts[:3] == ["good", "feed", "active"] and parts[5:] == ["0", str(GOOD)]
    assert datetime.fromisoformat(f"{parts[3]}T{parts[4]}").tzinfo is not None
    assert flaky.split()[:5] == ["flaky", "feed", "active", "never", "1"]
    assert flaky.endswith(
        f"HTTP 503 Whatever from {server.url}/flaky.xml; the server failed, it is retried next run"
    )
    assert later.split() == ["later", "feed", "active", "never", "0", "https://later.example/feed"]

    listed = run("sources", "--config", str(path), "--json")
    data = json.loads(listed.output)
    assert [s["name"] for s in data] == ["good", "flaky", "later"]
    assert set(data[0]) == {
        "name",
        "kind",
        "location",
        "status",
        "last_success",
        "consecutive_failures",
        "last_error",
    }
    assert datetime.fromisoformat(data[0]["last_success"]).tzinfo is not None
    assert (data[1]["status"], data[1]["consecutive_failures"]) == ("active", 1)
    assert data[1]["last_error"].startswith("HTTP 503") and data[2]["last_success"] == ""


def test_resume_needs_a_configured_source(
    server: BadServer, tmp_path: Path, database_url: str
) -> None:
    path = write_config(tmp_path, database_url, sources_body(server))
    result = run("sources", "--config", str(path), "--resume", "nope")
    assert result.exit_code == 2
    assert "unknown source 'nope': choose one of good, flaky" in result.output


def test_ingest_exit_codes_and_one_line_per_source(
    server: BadServer, tmp_path: Path, database_url: str
) -> None:
    path = write_config(tmp_path, database_url, sources_body(server))
    some_failed = run("ingest", "--config", str(path))
    assert some_failed.exit_code == 1
    lines = some_failed.output.splitlines()
    assert lines[0].startswith("ok good ") and lines[0].endswith(" new, 0 updated")
    assert lines[1].startswith("error flaky HTTP 503") and len(lines) == 2
    only_good = run("ingest", "--config", str(path), "good")
    assert (only_good.exit_code, only_good.output) == (0, "ok good 0 new, 0 updated\n")
    unknown = run("ingest", "--config", str(path), "no-such-thing")
    assert unknown.exit_code == 2
    assert "'no-such-thing' is not a configured source (good, flaky)" in unknown.output
    assert server.paths() == ["/flaky.xml"]  # asked once: not by `good`, not on a usage error


def test_ingest_takes_files_and_urls_from_the_command_line(
    server: BadServer, tmp_path: Path, database_url: str, store: Store
) -> None:
    feed = tmp_path / "extra.xml"
    feed.write_bytes((EXAMPLE / "feeds" / "talking-democrat.xml").read_bytes())
    path = write_config(tmp_path, database_url, f'[sources.good]\npath = "{GOOD}"\n')
    url = f"{server.url}/good.xml"
    refused = run("ingest", "--config", str(path), url)
    assert refused.exit_code == 1
    assert f"error {url} refused {url}: it resolves to a loopback address" in refused.output
    assert server.requests == []  # ad hoc URLs get no allow_private

    allowing = path.read_text(encoding="utf-8").replace(
        "[intake]\n", '[intake]\nallow_hosts = ["127.0.0.1"]\n'
    )
    path.write_text(allowing, encoding="utf-8")
    result = run("ingest", "--config", str(path), str(feed), url, str(feed))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "good"],
        ["ok", str(feed)],
        ["ok", url],
    ]
    assert int(lines[1].split()[2]) >= 10
    assert lines[2] == f"ok {url} 0 new, 0 updated"  # the same articles as the good file
    assert row(store, str(feed)).location == str(feed)


class Exploding:
    """A kind of source with a bug for one source: the others must not notice."""

    def __init__(self, real: SourceKind) -> None:
        self.real = real

    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        if settings.name == "buggy":
            raise RuntimeError("boom\nsecond line")
        return self.real.harvest(settings, state, context)


def test_an_unexpected_error_in_one_source_spares_the_others(
    tmp_path: Path, store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(KINDS, "feed", Exploding(KINDS["feed"]))
    body = f'[sources.buggy]\npath = "{GOOD}"\n[sources.fine]\npath = "{GOOD}"\n'
    config = load_config(write_config(tmp_path, database_url, body))
    reports = ingest_all(store, config, NOW)
    assert reports[0].line == "error buggy unexpected RuntimeError: boom; please report this"
    assert row(store, "buggy").consecutive_failures == 1
    assert reports[1].line.startswith("ok fine ") and reports[1].new >= 10
