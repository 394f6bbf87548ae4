"""The editors' desk and the public pages in Debian's chromium, against `digest serve` on
loopback under a base_url path: an editor's whole journey without JavaScript (sign in, open
the next edition, pin, edit a summary, send a test, approve, read the archive and its feed),
screenshots of the draft page at 375 and 1280 px, and axe-core over every desk and public
page at both widths with no WCAG 2.1 AA violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest
from browsing import axe_source, axe_violations, screenshot
from helpers import free_port
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from webtools import read_message, run_digest, serving, set_base_url

from digest.config import load_config
from digest.deliver.links import signer
from digest.run.editors import add_editor
from digest.store.database import Store, open_store
from subscribers.models import Membership, Status, Subscriber

pytestmark = pytest.mark.browser

SEGMENT = "tech-weekly"
EDITOR = "ada@newsroom.example"
PASSWORD = "a long enough password"
EDITED = "Our editor's own summary: the new chip ships to schools in March."
WIDTHS = (375, 1280)


@dataclass
class Served:
    base: str  # the public base URL, with its path
    config: Path
    store: Store
    kind: str  # sqlite or postgres

    @property
    def desk(self) -> str:
        return f"{self.base}/desk"

    @property
    def outbox(self) -> Path:
        return load_config(self.config).outbox_dir

    def messages(self, *folder: str) -> list[EmailMessage]:
        found = sorted(self.outbox.joinpath(*folder).glob("**/*.eml"))
        return [read_message(path) for path in found]

    def readers(self) -> set[str]:
        with self.store.session() as session:
            found = select(Subscriber.email).join(Membership)
            found = found.where(Membership.list_name == SEGMENT, Subscriber.status == "active")
            return set(session.scalars(found))


def set_in_segment(config: Path, lines: str) -> None:
    body = config.read_text(encoding="utf-8")
    table = f"[segments.{SEGMENT}]\n"
    config.write_text(body.replace(table, table + lines + "\n", 1), encoding="utf-8")


@pytest.fixture
def served(newsroom: Path, tmp_path: Path, database_url: str) -> Iterator[Served]:
    """Tech Weekly requires approval and is archived; its run has held the next edition;
    Ada is an editor; `digest serve` answers on loopback under /digest."""
    port = free_port()
    set_base_url(newsroom, f"http://127.0.0.1:{port}/digest")
    set_in_segment(newsroom, 'approval = "required"\narchive = true')
    run_digest(newsroom, "send", "--segment", SEGMENT)  # merges readers, ingests, holds
    with open_store(load_config(newsroom).database_url) as store:
        add_editor(store, EDITOR, PASSWORD, "Ada Lovelace")
        with serving(newsroom, port, tmp_path / "serve.log") as root:
            kind = database_url.split(":", 1)[0].split("+", 1)[0]
            yield Served(f"{root}/digest", newsroom, store, kind)


def sign_in(page: Page, served: Served) -> None:
    page.goto(f"{served.desk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the editors' desk")
    page.get_by_label("Email").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Segments")


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def flat(text: str) -> str:
    """Text with its line wrapping undone, to find a sentence in a wrapped text part."""
    return re.sub(r"\s+", " ", text)


def test_an_editor_pins_edits_tests_and_approves_in_a_browser_without_javascript(
    served: Served, browser: Browser
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, served)

    # the home page names the segment's state; its next edition is a link away
    tech = page.locator("section.card", has=page.get_by_role("heading", name="Tech Weekly"))
    expect(tech.locator("dd.state")).to_have_text("waiting for approval")
    page.get_by_role("link", name="Next edition of Tech Weekly").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Next edition of Tech Weekly")
    items = page.locator("ol.items > li")
    count = items.count()
    assert count > 0

    # pin a left-out candidate: it joins the items, marked pinned
    row = page.locator("tr[id^=candidate-]").filter(has_not_text="already sent").first
    pinned = row.locator("th").inner_text().strip()
    row.get_by_role("button", name="Pin", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Pinned")
    entry = items.filter(has=page.get_by_role("link", name=pinned, exact=True))
    expect(entry).to_contain_text("Pinned")
    expect(items).to_have_count(count)  # the segment's max_items holds: the last one made room

    # edit the first item's summary: kept, marked edited, in the preview the page embeds
    first = items.first
    headline = first.locator("h3").inner_text().strip()
    first.get_by_text("Edit", exact=True).click()
    first.get_by_label("Summary").fill(EDITED)
    first.get_by_role("button", name="Save edit").click()
    expect(page.locator("#flash")).to_contain_text("Edit")
    expect(items.first).to_contain_text(EDITED)
    expect(items.first).to_contain_text("Edited")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_text(EDITED)).to_be_visible()
    page.get_by_role("link", name="Plain text").click()
    expect(page.locator("pre.text")).to_contain_text(headline)

    # the draft page at a phone's width and a desktop's, saved for people to look at
    page.get_by_role("link", name="Desktop (600 px)").click()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot = screenshot(page, f"desk-draft-{width}px-{served.kind}")
        assert shot.stat().st_size > 10_000
        scrolls = page.evaluate("document.documentElement.scrollWidth")
        assert scrolls <= width, f"the draft page scrolls sideways at {width} px: {scrolls}"
    page.set_viewport_size({"width": 1280, "height": 900})

    # a test goes to the editor, marked [Test], with the edited summary; no edition yet
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("#flash")).to_contain_text(f"Test sent to {EDITOR}")
    [test] = served.messages("tests", SEGMENT)
    assert test["Subject"].startswith("[Test] ")
    assert [a.addr_spec for a in test["To"].addresses] == [EDITOR]
    text, html = parts(test)
    assert EDITED in flat(text) and EDITED in html.replace("&#39;", "'")
    assert served.messages(SEGMENT) == []

    # approve: one message per reader, edited summary, pinned story, no [Test]
    page.get_by_role("button", name="Approve and send").click()
    readers = served.readers()
    expect(page.locator("#flash")).to_contain_text(
        f"Approved and written to {len(readers)} readers"
    )
    sent = served.messages(SEGMENT)
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == sorted(readers)
    for message in sent:
        assert not message["Subject"].startswith("[Test]")
        text, html = parts(message)
        assert EDITED in flat(text) and pinned in flat(text)
    assert len(served.messages("tests")) == 1

    # the history names who approved; every change is in the edition's log
    page.get_by_role("link", name="History").first.click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text(EDITOR)
    row.locator("th a").click()
    log = page.locator("table").last
    for action in ("pin", "edit", "test", "approve"):
        expect(log).to_contain_text(re.compile(action, re.I))

    # the email's View in browser link opens the archive page; the feed lists it
    text, _ = parts(sent[0])
    link = re.search(r"^View online: (\S+)$", text, flags=re.M)
    assert link is not None and link.group(1).startswith(f"{served.base}/archive/{SEGMENT}/")
    page.goto(link.group(1))
    expect(page.get_by_text(EDITED)).to_be_visible()
    expect(page.get_by_text(pinned).first).to_be_visible()
    page.goto(f"{served.base}/archive/{SEGMENT}/")
    expect(page.get_by_role("link", name=sent[0]["Subject"])).to_be_visible()
    feed = page.request.get(f"{served.base}/archive/{SEGMENT}/feed.xml")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    assert [entry.link for entry in feedparser.parse(feed.body()).entries] == [link.group(1)]

    # Log out ends the session: the desk asks to log in again
    page.goto(f"{served.desk}/")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{served.desk}/segments/{SEGMENT}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the editors' desk")
    context.close()


def check(page: Page, script: str, url: str, width: int) -> list[str]:
    page.set_viewport_size({"width": width, "height": 900})
    answer = page.goto(url)
    assert answer is not None and answer.ok, f"{url}: {answer.status if answer else 'no answer'}"
    return [f"{url} at {width} px: {line}" for line in axe_violations(page, script)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_desk_and_public_page_passes_axe_at_both_widths(
    served: Served, browser: Browser
) -> None:
    script = axe_source()
    context: BrowserContext = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found: list[str] = []
    desk, segment = served.desk, f"{served.desk}/segments/{SEGMENT}"
    for width in WIDTHS:
        found += check(page, script, f"{desk}/login", width)
    sign_in(page, served)
    page.goto(segment)  # an edit and a note, so the page shows what edited items look like
    first = page.locator("ol.items > li").first
    first.get_by_text("Edit", exact=True).click()
    first.get_by_label("Summary").fill(EDITED)
    first.get_by_role("button", name="Save edit").click()
    page.get_by_label("Editor's note").fill("**Welcome** to the week.")
    page.get_by_role("button", name="Save note").click()
    drafts = [f"{segment}?view={view}" for view in ("desktop", "mobile", "text")]
    for width in WIDTHS:
        for url in (f"{desk}/", *drafts, f"{segment}/email.html", f"{segment}/history"):
            found += check(page, script, url, width)
    page.goto(segment)
    page.get_by_role("button", name="Approve and send").click()
    expect(page.locator("#flash")).to_contain_text("Approved")
    page.goto(f"{segment}/history")
    edition = page.locator("tbody tr th a").first.get_attribute("href")
    assert edition is not None
    listing = f"{served.base}/archive/{SEGMENT}/"
    page.goto(listing)
    archived = page.locator("main a[href*='/archive/']:not([href$='.xml'])").first.get_attribute(
        "href"
    )
    assert archived is not None
    reader = next(iter(served.readers()))
    with served.store.session() as session:
        who = session.scalars(select(Subscriber.id).where(Subscriber.email == reader)).one()
    token = signer(served.store).token(who, SEGMENT)
    public = (
        f"{served.base}/subscribe",
        f"{served.base}/preferences/{token}",
        f"{served.base}/unsubscribe/{token}",
        listing,
        urljoin(listing, archived),
    )
    for width in WIDTHS:
        for url in (urljoin(segment, edition), *public):
            found += check(page, script, url, width)
    page.goto(f"{desk}/")
    page.get_by_role("button", name="Log out").click()
    context.close()
    assert not found, "\n".join(found)
    with served.store.session() as session:
        still = session.scalars(select(Subscriber.status).where(Subscriber.email == reader)).one()
    assert still == Status.active  # looking at the unsubscribe page changes nothing


def test_axe_reports_a_violation_where_there_is_one(browser: Browser) -> None:
    """The check above can fail: a page with an image without alt text and a grey-on-white
    paragraph is flagged."""
    script = axe_source()
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#bbb;background:#fff">Hard to read</p></main></body></html>'
    )
    found = " ".join(axe_violations(page, script))
    context.close()
    assert "image-alt" in found and "color-contrast" in found
