"""The app's frame: settings of [web], rate-limit buckets, `digest serve` errors, pages
found in the user's templates folder first, 404/405 pages and private headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from webtools import append_toml, open_site

from digest.cli import cli, main
from digest.config import load_config
from digest.errors import ConfigError
from digest.store.database import Store
from digest.web.app import create_app
from digest.web.ratelimit import RateLimiter


def test_buckets_refill_and_the_table_stays_bounded() -> None:
    now = [100.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0], max_keys=100)
    assert [limiter.take("a"), limiter.take("a")] == [0, 0]
    assert limiter.take("a") == 30  # one token comes back every 30 s
    now[0] += 29.5
    assert limiter.take("a") == 1
    now[0] += 0.5
    assert limiter.take("a") == 0
    assert limiter.take("b") == 0  # another key has its own bucket
    for n in range(1000):
        limiter.take(f"k{n}")
    assert len(limiter) <= 100


def test_web_settings_are_read_and_checked(newsroom: Path) -> None:
    append_toml(newsroom, '[web]\nport = 8123\nfrequencies = ["weekly"]\nip_limit = 4')
    config = load_config(newsroom)
    assert (config.web.port, config.web.frequencies, config.web.ip_limit) == (8123, ("weekly",), 4)
    append_toml(newsroom, "rate_windw = 5")
    with pytest.raises(
        ConfigError, match=r"unknown setting 'rate_windw'; did you mean 'rate_window'"
    ):
        load_config(newsroom)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("port = 70000", "port: 70000 is not a port number"),
        ("ip_limit = 0", "ip_limit: must be at least 1"),
        ("webhook_replay_window = 0", "webhook_replay_window: must be more than 0 seconds"),
        ("frequencies = []", "frequencies: offer at least one"),
    ],
)
def test_bad_web_settings_are_one_clear_error(
    newsroom: Path, store: Store, line: str, message: str
) -> None:
    append_toml(newsroom, f"[web]\n{line}")
    with pytest.raises(ConfigError, match=message):
        create_app(load_config(newsroom), store, webhook_key="")


def test_serve_reports_a_bad_key_in_one_line(
    newsroom: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", "not-a-key")
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--config", str(newsroom), "--port", "1"])
    assert exit.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid public key")


def test_serve_help_names_its_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--config", "--host", "--port"):
        assert option in result.output


def test_user_templates_come_first(newsroom: Path, store: Store) -> None:
    folder = newsroom.parent / "mytemplates" / "web"
    folder.mkdir(parents=True)
    (folder / "subscribe_sent.html").write_text(
        '{% extends "web/_layout.html" %}{% block content %}<h1>Nearly there</h1>{% endblock %}',
        encoding="utf-8",
    )
    text = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(
        text.replace("[digest]\n", '[digest]\ntemplates_dir = "mytemplates"\n', 1), "utf-8"
    )
    with open_site(newsroom, store) as site:
        response = site.client.post(
            "/subscribe", data={"email": "t@example.org", "lists": "tech-weekly"}
        )
        assert site.soup(response).h1.get_text() == "Nearly there"
        assert site.soup(site.client.get("/subscribe")).h1.get_text().startswith("Subscribe")


def test_unknown_pages_and_methods_get_plain_pages(newsroom: Path, store: Store) -> None:
    with open_site(newsroom, store) as site:
        missing = site.client.get("/nothing-here")
        assert missing.status_code == 404 and site.soup(missing).h1.get_text() == "Not found"
        wrong = site.client.request("DELETE", "/subscribe")
        assert wrong.status_code == 405
        for response in (missing, wrong):
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["x-frame-options"] == "DENY"


def test_the_wheel_carries_the_page_and_confirmation_templates(tmp_path: Path) -> None:
    from zipfile import ZipFile

    from hatchling.builders.wheel import WheelBuilder

    root = Path(__file__).resolve().parent.parent
    built = list(WheelBuilder(str(root)).build(directory=str(tmp_path), versions=["standard"]))
    with ZipFile(built[0]) as wheel:
        names = set(wheel.namelist())
    pages = {f"digest/templates/web/{p.name}" for p in (root / "templates" / "web").glob("*.html")}
    assert "digest/templates/web/_layout.html" in pages and pages <= names
    assert "digest/templates/email/confirm.html.j2" in names
    assert "digest/templates/email/confirm.txt.j2" in names
    assert "digest/web/app.py" in names


def test_a_500_carries_the_private_headers_and_a_plain_page(newsroom: Path, store: Store) -> None:
    import asyncio

    import httpx
    from starlette.requests import Request
    from starlette.responses import Response

    from digest.web.app import HEADERS

    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug")

    app = create_app(load_config(newsroom), store, webhook_key="")
    app.add_route("/boom", boom)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom")

    response = asyncio.run(call())
    assert response.status_code == 500
    for name, value in HEADERS:
        assert response.headers[name.decode()] == value.decode()
    assert "a bug" not in response.text and "Something went wrong" in response.text


def test_serve_on_a_port_in_use_says_so_in_one_line(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit:
            main(["serve", "--config", str(newsroom), "--port", str(port)])
    assert exit.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: cannot listen on 127.0.0.1:{port}: address already in use; "
        "stop what is using it, or pass another --port\n"
    )
