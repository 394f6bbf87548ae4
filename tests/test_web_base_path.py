"""The app under the path of base_url: the links in real emails work against `digest serve`
itself, behind a proxy that keeps the prefix, and behind one that strips it; every link and
form of the pages carries the public prefix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from helpers import free_port
from playwright.sync_api import Browser, expect
from proxy import reverse_proxy
from sqlalchemy import select
from webtools import (
    Site,
    add_subscriber,
    open_site,
    read_message,
    run_digest,
    serving,
    set_base_url,
)

from digest.config import load_config
from digest.store.database import Store, open_store
from subscribers.models import Status, Subscriber

ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Emailed:
    """A digest written to the outbox for a reader, and the links it carries."""

    message: EmailMessage
    address: str
    one_click: str  # the List-Unsubscribe URL, exactly as in the file
    preferences: str  # the preferences link of the HTML body, exactly as in the file


def emailed(newsroom: Path, base_url: str) -> Emailed:
    """Run the example newsroom on the outbox with ``base_url``; a Tech Weekly message."""
    set_base_url(newsroom, base_url)
    run_digest(newsroom)
    outbox = load_config(newsroom).outbox_dir
    path = sorted((outbox / "tech-weekly").rglob("*.eml"))[0]
    message = read_message(path)
    one_click = re.match(r"<(http://[^>]+)>, <mailto:", message["List-Unsubscribe"])
    html = message.get_body(("html",))
    assert one_click is not None and html is not None
    preferences = re.search(r'href="(http://[^"]+/preferences/[^"]+)"', html.get_content())
    assert preferences is not None
    address = message["To"].addresses[0].addr_spec
    return Emailed(message, address, one_click.group(1), preferences.group(1))


def reader(store: Store, address: str) -> Subscriber:
    with store.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == address))
        assert found is not None
        session.expunge(found)
        return found


def links_of(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [f["action"] for f in soup.find_all("form")] + [a["href"] for a in soup.find_all("a")]


@pytest.fixture
def store_of(newsroom: Path) -> Iterator[Store]:
    store = open_store(load_config(newsroom).database_url)
    yield store
    store.close()


def test_one_click_from_a_real_eml_works_against_digest_serve_unchanged(
    newsroom: Path, tmp_path: Path, store_of: Store
) -> None:
    port = free_port()
    mail = emailed(newsroom, f"http://127.0.0.1:{port}/digest")
    assert httpx.URL(mail.one_click).path.startswith("/digest/unsubscribe/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with serving(newsroom, port, tmp_path / "serve.log"):
        answer = httpx.post(
            mail.one_click, content="List-Unsubscribe=One-Click", headers=ONE_CLICK, timeout=10
        )
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text
        page = httpx.get(mail.preferences, timeout=10)
    assert "tech-weekly" not in reader(store_of, mail.address).list_names
    assert page.status_code == 200
    assert "Context impl" not in (tmp_path / "serve.log").read_text()  # no migration chatter


def test_behind_a_proxy_that_strips_the_prefix(
    newsroom: Path, tmp_path: Path, store_of: Store
) -> None:
    public, upstream = free_port(), free_port()
    mail = emailed(newsroom, f"http://127.0.0.1:{public}/digest")
    with (
        serving(newsroom, upstream, tmp_path / "serve.log") as served,
        reverse_proxy(public, served, "/digest", strip=True),
    ):
        page = httpx.get(mail.preferences, timeout=10)
        assert page.status_code == 200
        assert links_of(page.text) and all(u.startswith("/digest/") for u in links_of(page.text))
        action = BeautifulSoup(page.text, "html.parser").form["action"]
        saved = httpx.post(
            f"http://127.0.0.1:{public}{action}",
            data={"lists": ["tech-weekly"], "frequency": "monthly"},
            timeout=10,
        )
        assert saved.status_code == 200 and "Your preferences are saved." in saved.text
        assert reader(store_of, mail.address).attributes["frequency"] == "monthly"
        answer = httpx.post(
            mail.one_click, content="List-Unsubscribe=One-Click", headers=ONE_CLICK, timeout=10
        )
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert "tech-weekly" not in reader(store_of, mail.address).list_names


def test_behind_a_proxy_that_keeps_the_prefix(
    newsroom: Path, tmp_path: Path, store_of: Store
) -> None:
    public, upstream = free_port(), free_port()
    mail = emailed(newsroom, f"http://127.0.0.1:{public}/digest")
    with (
        serving(newsroom, upstream, tmp_path / "serve.log") as served,
        reverse_proxy(public, served, "/digest", strip=False),
    ):
        answer = httpx.post(
            mail.one_click, content="List-Unsubscribe=One-Click", headers=ONE_CLICK, timeout=10
        )
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert "tech-weekly" not in reader(store_of, mail.address).list_names


@pytest.mark.browser
def test_a_browser_opens_and_saves_the_preferences_link_of_a_real_eml(
    newsroom: Path, tmp_path: Path, store_of: Store, browser: Browser
) -> None:
    port = free_port()
    mail = emailed(newsroom, f"http://127.0.0.1:{port}/digest")
    with serving(newsroom, port, tmp_path / "serve.log"):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(mail.preferences)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your preferences")
        page.get_by_label("Monthly").check()
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status")).to_have_text("Your preferences are saved.")
        assert page.url == mail.preferences  # posted back to the link's own address
        context.close()
    assert reader(store_of, mail.address).attributes["frequency"] == "monthly"


def test_the_app_answers_with_and_without_the_prefix_and_links_carry_it(site: Site) -> None:
    who = add_subscriber(site.store, "paths@example.org", ("tech-weekly",))
    token = site.web.links.token(who, "tech-weekly")
    for path in ("/subscribe", f"/unsubscribe/{token}", f"/preferences/{token}"):
        for prefix in ("/digest", ""):
            response = site.client.get(prefix + path)
            assert response.status_code == 200, prefix + path
            links = links_of(response.text)
            assert links and all(u.startswith("/digest/") for u in links), links
    assert site.client.get("/digestive/subscribe").status_code == 404
    assert site.client.get("/other/subscribe").status_code == 404
    assert site.client.get("/digest/healthz").text == "ok"
    left = site.client.post(f"/digest/unsubscribe/{token}", content="List-Unsubscribe=One-Click")
    assert left.status_code == 200
    assert reader(site.store, "paths@example.org").status == Status.unsubscribed


def test_with_base_url_at_the_root_links_start_at_the_root(newsroom: Path, store: Store) -> None:
    set_base_url(newsroom, "https://newsroom.example/")
    with open_site(newsroom, store) as site:
        response = site.client.get("/subscribe")
        assert site.soup(response).form["action"] == "/subscribe"
