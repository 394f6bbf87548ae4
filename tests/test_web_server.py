"""`digest serve` for real: uvicorn on a free port in a subprocess, then a browser.

Signup → confirm → digest → one-click unsubscribe over real HTTP; and Debian's chromium,
driven by Playwright with JavaScript switched off, pressing the unsubscribe button.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import free_port
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from webtools import (
    add_subscriber,
    confirm_link,
    read_message,
    run_digest,
    serving,
    set_base_url,
)

from digest.config import load_config
from digest.deliver.links import signer
from digest.store.database import Store, open_store
from subscribers.models import Status, Subscriber

ADDRESS = "served.reader@example.com"


@pytest.fixture
def served(newsroom: Path, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    port = free_port()
    set_base_url(newsroom, f"http://127.0.0.1:{port}")
    store = open_store(load_config(newsroom).database_url)
    try:
        with serving(newsroom, port, tmp_path / "serve.log") as base:
            yield base, store
    finally:
        store.close()


def status_of(store: Store, address: str) -> Status | None:
    with store.session() as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.email == address))


def test_signup_confirm_digest_and_one_click_over_real_http(
    served: tuple[str, Store], newsroom: Path
) -> None:
    base, store = served
    outbox = load_config(newsroom).outbox_dir
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        answer = client.post(f"{base}/subscribe", data={"email": ADDRESS, "lists": "tech-weekly"})
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        link = confirm_link(outbox, ADDRESS, wait=10)
        assert link.startswith(f"{base}/confirm/")
        assert client.get(link).status_code == 200
        assert status_of(store, ADDRESS) == Status.pending
        assert client.post(link).status_code == 200
        assert status_of(store, ADDRESS) == Status.active

        run_digest(newsroom)
        [path] = list((outbox / "tech-weekly").rglob(f"*-{ADDRESS}.eml"))
        message = read_message(path)
        found = re.match(r"<(http://[^>]+)>, <mailto:", message["List-Unsubscribe"])
        assert found is not None and found.group(1).startswith(f"{base}/unsubscribe/")
        response = client.post(
            found.group(1),
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200 and not response.is_redirect
    assert "set-cookie" not in response.headers
    assert status_of(store, ADDRESS) == Status.unsubscribed


@pytest.mark.browser
def test_a_browser_without_javascript_unsubscribes_with_the_button(
    served: tuple[str, Store], browser: Browser
) -> None:
    base, store = served
    who = add_subscriber(store, "browser.reader@example.org", ("politics-daily", "tech-weekly"))
    token = signer(store).token(who, "politics-daily")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/unsubscribe/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    assert status_of(store, "browser.reader@example.org") == Status.active
    page.get_by_role("button", name="Leave Politics Daily").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_contain_text("You have left Politics Daily")
    context.close()
    with store.session() as session:
        reader = session.get_one(Subscriber, who)
        assert reader.status == Status.active and reader.list_names == {"tech-weekly"}


def test_serve_starts_without_migration_chatter(served: tuple[str, Store], tmp_path: Path) -> None:
    base, _ = served
    assert httpx.get(f"{base}/healthz", timeout=10).text == "ok"
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "alembic" not in log.lower() and "Context impl" not in log
    assert "Will assume" not in log and "Running upgrade" not in log
