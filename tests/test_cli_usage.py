"""Usage errors are caught before any work and exit 2; the smaller CLI promises hold:
the settings reference, `digest status` on an empty store, install hints, early checks of
the backend's secret, the results table and what a failed resume says."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from helpers import ROOT, Inbox, free_port, run_cli, write_desk
from sqlalchemy import func, select

from digest.commands.intake import extract
from digest.config import load_config
from digest.errors import StoreError
from digest.settings import describe, settings_markdown
from digest.store.database import make_engine, open_store
from digest.store.models import Article, Edition
from subscribers.models import Subscriber

SEGMENT = "politics"
CLI = [sys.executable, "-c", "from digest.cli import main; main()"]
READERS = {f"{who}@readers.example": who for who in ("ada", "bob", "cy")}


def nothing_done(config_path: Path) -> bool:
    """No article ingested and no subscriber merged (no store at all, on SQLite)."""
    config = load_config(config_path)
    if config.database_url.startswith("sqlite") and not (config_path.parent / "digest.db").exists():
        return True
    with open_store(config.database_url) as store, store.session() as session:
        articles = session.scalar(select(func.count(Article.id)))
        readers = session.scalar(select(func.count(Subscriber.id)))
    return articles == 0 and readers == 0


# --- item 8: usage errors before any work, exit 2 ---


def test_run_with_an_unknown_segment_does_nothing_and_suggests_the_near_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    config = write_desk(tmp_path / "desk", READERS, database_url)

    code, out, err = run_cli(capsys, "run", "--config", str(config), "--segment", "politcs")

    assert code == 2
    assert out == ""  # no ingest lines, no subscriber line, no results table
    assert err.splitlines() == [
        "error: unknown segment 'politcs': did you mean 'politics'? (choose one of politics)"
    ]
    assert nothing_done(config)


@pytest.mark.parametrize(
    "command",
    [
        ["send", "--segment", "sports"],
        ["send", "--segment", "sports", "--no-ingest"],
        ["preview", "--segment", "sports"],
        ["pin", "--segment", "sports", "1"],
        ["exclude", "--segment", "sports", "1"],
    ],
)
def test_every_command_refuses_an_unknown_segment_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    config = write_desk(tmp_path / "desk", READERS)

    code, out, err = run_cli(capsys, *command, "--config", str(config))

    assert code == 2 and out == ""
    assert err.splitlines() == ["error: unknown segment 'sports': choose one of politics"]
    assert not (tmp_path / "desk" / "digest.db").exists()


COMMANDS = [
    ["run"],
    ["send", "--segment", SEGMENT],
    ["preview", "--segment", SEGMENT],
    ["pin", "--segment", SEGMENT, "1"],
    ["exclude", "--segment", SEGMENT, "1"],
    ["schedule"],
    ["status"],
    ["resume"],
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_config_path_given_that_does_not_exist_is_a_usage_error_saying_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nope.toml"

    code, out, err = run_cli(capsys, *command, "--config", str(missing))

    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {missing}: config file not found (the path given to --config); check the path"
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_config_names_where_its_path_came_from(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGEST_CONFIG", raising=False)
    code, _, err = run_cli(capsys, *command)
    assert code == 2
    assert err.splitlines() == [
        f"error: {tmp_path / 'digest.toml'}: config file not found; "
        "pass --config PATH or set DIGEST_CONFIG"
    ]

    monkeypatch.setenv("DIGEST_CONFIG", "elsewhere.toml")
    code, _, err = run_cli(capsys, *command)
    assert code == 2
    assert err.splitlines() == [
        "error: elsewhere.toml: config file not found (the path in $DIGEST_CONFIG); "
        "check the variable"
    ]
    assert not (tmp_path / "digest.db").exists()


def test_the_config_from_the_environment_is_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_desk(tmp_path / "desk", READERS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_CONFIG", str(config))
    code, out, _ = run_cli(capsys, "preview", "--segment", SEGMENT)
    assert (code, out) == (0, "no new articles\n")  # nothing ingested yet


# --- item 12 (e): a login without its password is caught before the run ---


def test_an_smtp_username_without_its_password_stops_before_any_work(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DIGEST_SMTP_PASSWORD", raising=False)
    config = with_smtp(write_desk(tmp_path / "desk", READERS, database_url), 9, 'username = "desk"')

    for command in (
        ["run", "--backend", "smtp"],
        ["send", "--segment", SEGMENT, "--backend", "smtp"],
    ):
        code, out, err = run_cli(capsys, *command, "--config", str(config))
        assert code == 1 and out == ""
        assert err.splitlines() == [
            f"error: {config} [smtp] username: 'desk' logs in, but DIGEST_SMTP_PASSWORD is "
            "not set; export it, or empty username to send without logging in"
        ]
        assert nothing_done(config)


# --- item 12 (a) to (d) ---


def test_sender_name_is_in_the_settings_reference() -> None:
    rows = {(table, key): text for table, key, _, text in describe()}
    assert rows[("sender", "name")] == "Display name in the From header."
    assert ("sources.NAME", "name") not in rows and ("segments.NAME", "name") not in rows
    assert "| `name` | `'Digest'` | Display name in the From header. |" in settings_markdown()
    reference = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "| `name` | `'Digest'` |" in reference


def test_status_of_an_empty_store_says_there_are_no_editions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    config = write_desk(tmp_path / "desk", READERS, database_url)

    code, out, err = run_cli(capsys, "status", "--config", str(config))
    assert (code, out, err) == (
        0,
        "no editions yet; `digest run` or `digest send` makes the first\n",
        "",
    )

    code, out, err = run_cli(capsys, "status", "--config", str(config), "--json")
    assert code == 0
    assert out == ""  # JSON Lines: no edition, no line
    assert err == "no editions yet; `digest run` or `digest send` makes the first\n"


def test_extract_tells_how_to_reach_a_page_on_this_machine() -> None:
    from click.testing import CliRunner
    from feedserver import Route, serve

    with serve() as server:
        server.routes["/page"] = Route(b"<html><body><p>Hello</p></body></html>")
        result = CliRunner().invoke(extract, [f"{server.url}/page"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error {server.url}/page refused {server.url}/page: it resolves to a loopback "
        "address; pass --allow-private to fetch from your own machine or network"
    ]


def test_a_postgres_url_without_the_driver_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(StoreError) as caught:
        make_engine("postgresql+psycopg://digest:secret@db.example/news")
    message = str(caught.value)
    assert "pip install 'digest-newsletter[postgres]'" in message
    assert "secret" not in message and "\n" not in message


# --- smaller items ---


def test_a_bad_value_in_defaults_is_reported_against_defaults(tmp_path: Path) -> None:
    config = write_desk(tmp_path / "desk", READERS)
    body = config.read_text(encoding="utf-8").replace(
        "[audience]", '[defaults]\nmax_items = "8"\n\n[audience]'
    )
    config.write_text(body, encoding="utf-8")
    code = subprocess.run(
        [*CLI, "preview", "--segment", SEGMENT, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert code.returncode == 1
    assert code.stderr.splitlines() == [
        f"error: {config} [defaults] max_items: expected an integer, got '8'"
    ]
    config.write_text(body.replace('max_items = "8"', "max_items = 0"), encoding="utf-8")
    with pytest.raises(Exception, match=r"\[defaults\] max_items: must be at least 1"):
        load_config(config)


def with_smtp(config: Path, port: int, more: str = "") -> Path:
    """Add an [smtp] table for a server on 127.0.0.1 without TLS."""
    table = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5\n'
    body = config.read_text(encoding="utf-8")
    config.write_text(body.replace("[audience]", f"{table}{more}\n\n[audience]"), "utf-8")
    return config


def test_the_results_table_says_sent_for_smtp_and_written_for_the_outbox(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    inbox: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    handler, port = inbox
    config = with_smtp(write_desk(tmp_path / "desk", READERS, database_url), port)

    code, out, err = run_cli(capsys, "run", "--config", str(config), "--backend", "smtp")

    assert code == 0, err
    assert len(handler.received) == 3
    header, row = out.splitlines()[-2:]
    assert header.split() == ["segment", "items", "recipients", "sent", "open"]
    assert row.split()[:4] == [SEGMENT, "1", "3", "3"]

    outbox = with_smtp(write_desk(tmp_path / "other", READERS, ""), port)
    code, out, _ = run_cli(capsys, "run", "--config", str(outbox))
    assert code == 0
    assert out.splitlines()[-2].split() == ["segment", "items", "recipients", "written", "open"]


def test_a_failed_resume_says_what_to_check_not_to_resume(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    nobody = free_port()  # no server
    config = with_smtp(write_desk(tmp_path / "desk", READERS, database_url), nobody)

    code, out, _ = run_cli(
        capsys, "send", "--config", str(config), "--segment", SEGMENT, "--backend", "smtp"
    )
    assert code == 1
    assert "`digest resume` continues it" in out  # the run points to resume

    code, out, _ = run_cli(capsys, "resume", "--config", str(config), "--backend", "smtp")
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith(f"{SEGMENT}: 3 recipients, 0 sent now (stopped: cannot connect")
    assert "resume` continues" not in line
    assert line.endswith(
        "check [smtp] host, port and security, DIGEST_SMTP_PASSWORD, and that the server "
        "answers, then resume again)"
    )
    with open_store(load_config(config).database_url) as store, store.session() as session:
        assert session.scalar(select(func.count(Edition.id))) == 1


def terminal_screen(raw: bytes) -> list[str]:
    """The lines a terminal shows for ``raw``: a carriage return goes back to the start of
    the line, and what follows overwrites it."""
    screen = []
    for line in raw.decode("utf-8", "replace").split("\n"):
        cells: list[str] = []
        column = 0
        for char in line:
            if char == "\r":
                column = 0
                continue
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
        screen.append("".join(cells).rstrip())
    return screen


def test_in_a_terminal_the_table_follows_the_intake_lines_directly(tmp_path: Path) -> None:
    config = write_desk(tmp_path / "desk", READERS)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [*CLI, "run", "--config", str(config)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "DIGEST_SECRET_KEY": "test-signing-key"},
    )
    os.close(follower)
    raw = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed: the run is over
            break
        if not chunk:
            break
        raw += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    screen = terminal_screen(raw)
    header = next(i for i, line in enumerate(screen) if line.startswith("segment "))
    assert screen[header - 1] == "ok desk 2 new, 0 updated", screen
    assert screen[header + 1].split()[:4] == [SEGMENT, "1", "3", "3"]
