"""The desk's pages in a browser's shoes: home, a segment's next edition in three views,
each action as a form (pin, exclude, move, edit, note, subject, test send, approve), an
approval of a draft that changed refused with the change shown, history and an edition's
page, reader groups of a personalised segment, and untrusted text kept as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import func, select
from webtools import Browser, Site, add_subscriber, append_toml, open_site, read_message, run_digest

from digest.run import desk as engine
from digest.run.editors import add_editor
from digest.store.database import Store
from digest.store.models import Article, Delivery, Edition
from digest.web.desk.frames import Frames
from subscribers.models import Membership, Subscriber

DESK = "/digest/desk"
SEGMENT = "tech-weekly"
PAGE = f"{DESK}/segments/{SEGMENT}"
EDITOR = "ada@newsroom.example"
PASSWORD = "a long enough password"


@dataclass
class Desk:
    site: Site
    browser: Browser

    def page(self, url: str = PAGE) -> httpx.Response:
        answer = self.browser.get(url)
        assert answer.status_code == 200, answer.text
        return answer

    def soup(self, answer: httpx.Response) -> BeautifulSoup:
        return BeautifulSoup(answer.text, "html.parser")

    def press(
        self, page: httpx.Response, button: str, scope: str = "", **fields: str
    ) -> BeautifulSoup:
        """Press a button; follow the redirect back; the page it lands on."""
        answer = self.browser.submit(page, button, scope, **fields)
        assert answer.status_code == 303, answer.text
        return self.soup(self.page(answer.headers["location"]))

    def status(self, soup: BeautifulSoup) -> str:
        found = soup.find(id="flash")
        assert isinstance(found, Tag), "no message on the page"
        return f"{found['role']}: {found.get_text(strip=True)}"

    def items(self, soup: BeautifulSoup) -> list[Tag]:
        found = soup.find("ol", class_="items")
        assert isinstance(found, Tag)
        return found.find_all("li", recursive=False)

    def left_out(self, soup: BeautifulSoup) -> list[Tag]:
        heading = soup.find(id="left-heading")
        assert isinstance(heading, Tag)
        table = heading.find_next("table")
        return table.tbody.find_all("tr") if isinstance(table, Tag) else []


def editions(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Edition)) or 0


def sign_in(site: Site, editor: str = EDITOR) -> Desk:
    add_editor(site.store, editor, PASSWORD, "Ada Lovelace")
    by = Browser(site.client.app)
    signed = by.submit(by.get(f"{DESK}/login"), "Log in", email=editor, password=PASSWORD)
    assert signed.status_code == 303
    return Desk(site, by)


def require_approval(config: Path, segment: str = SEGMENT) -> None:
    table = f"[segments.{segment}]\n"
    body = config.read_text(encoding="utf-8")
    config.write_text(body.replace(table, f'{table}approval = "required"\n', 1), "utf-8")


def readers(store: Store, segment_list: str = SEGMENT) -> int:
    with store.session() as session:
        found = select(func.count()).select_from(Subscriber).join(Membership)
        found = found.where(Membership.list_name == segment_list, Subscriber.status == "active")
        return session.scalar(found) or 0


@pytest.fixture
def desk(newsroom: Path, store: Store) -> Iterator[Desk]:
    """Tech Weekly requires approval, and its run has held an edition for an editor, who
    has signed in."""
    require_approval(newsroom)
    run_digest(newsroom, "send", "--segment", SEGMENT)  # merges readers, ingests, holds
    with open_site(newsroom, store) as site:
        yield sign_in(site)


def test_home_shows_every_segment_with_its_figures(desk: Desk) -> None:
    soup = desk.soup(desk.page(f"{DESK}/"))
    cards = {s.h2.get_text(strip=True): s for s in soup.find_all("section", class_="card")}
    assert set(cards) == {"Politics Daily", "Tech Weekly", "Everything Weekly"}
    tech = cards["Tech Weekly"]
    figures = dict(zip(
        [d.get_text(strip=True) for d in tech.find_all("dt")],
        [d.get_text(strip=True) for d in tech.find_all("dd")],
        strict=True,
    ))  # fmt: skip
    assert figures["Readers"] == str(readers(desk.site.store)) != "0"
    assert "Monday" in figures["Schedule"] and "08:00" in figures["Schedule"]
    assert "Europe/London" in figures["Schedule"]
    assert figures["Next run"].startswith("Mon ") and "08:00" in figures["Next run"]
    assert figures["Next edition"] == "waiting for approval"
    assert "None sent yet." in tech.get_text()
    assert tech.h2.a["href"] == PAGE
    politics = cards["Politics Daily"]
    assert "draft" in politics.find("dd", class_="state").get_text()
    assert soup.find("button", string="Log out") is not None
    assert [h.name for h in soup.find_all(["h1", "h2", "h3"])][:3] == ["h1", "h2", "h3"]


def test_the_next_edition_in_three_views_with_the_reasons(desk: Desk) -> None:
    soup = desk.soup(desk.page())
    assert soup.h1.get_text(strip=True) == "Next edition of Tech Weekly"
    shown = engine.next_edition(desk.site.store, desk.site.config, SEGMENT)
    items = desk.items(soup)
    assert [i.h3.get_text(strip=True) for i in items] == [i.title for i in shown.items]
    first, composed = items[0], shown.items[0]
    assert f"Why: {composed.reason}" in " ".join(first.get_text(" ", strip=True).split())
    parts = [dt.get_text() for dt in first.find("details").find_all("dt")]
    assert parts == list(composed.parts)
    rows = desk.left_out(soup)
    assert len(rows) == len(shown.left_out) > 0
    assert rows[0].find_all("td")[2].get_text() == shown.left_out[0].reason

    frame = soup.find("iframe")
    assert frame["width"] == "600" and frame["src"] == f"{PAGE}/email.html"
    assert "allow-scripts" not in frame["sandbox"]
    mobile = desk.soup(desk.page(f"{PAGE}?view=mobile")).find("iframe")
    assert mobile["width"] == "375"
    text = desk.soup(desk.page(f"{PAGE}?view=text"))
    assert text.find("iframe") is None
    assert text.find("pre").get_text() == shown.text
    current = text.find("a", attrs={"aria-current": "page"})
    assert current.get_text() == "Plain text"

    email = desk.browser.get(frame["src"])
    assert email.status_code == 200 and email.text.startswith("<!doctype html>") is not None
    assert shown.items[0].title.split()[0] in email.text
    policy = email.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "script-src" not in policy
    assert email.headers["x-frame-options"] == "SAMEORIGIN"
    assert email.headers["cache-control"] == "no-store"
    assert '<base target="_blank">' in email.text
    page_policy = desk.page().headers["content-security-policy"]
    assert "frame-src 'self'" in page_policy and "frame-ancestors 'none'" in page_policy
    assert editions(desk.site.store) == 0  # showing records nothing


def summary_elsewhere(desk: Desk, text: str) -> None:
    """An edit of the first item made outside this browser (another editor, a command)."""
    first = engine.next_edition(desk.site.store, desk.site.config, SEGMENT).items[0]
    engine.edit(desk.site.store, desk.site.config, SEGMENT, first.article_id, "", text, "x@y.z")


def test_the_frame_shows_its_page_s_email_and_nothing_older(desk: Desk, store: Store) -> None:
    email = f"{PAGE}/email.html"
    desk.page()
    summary_elsewhere(desk, "Changed after the page was shown.")
    framed = desk.browser.get(email).text  # the frame of that page: the draft it shows
    assert "Changed after the page was shown." not in framed
    assert "Changed after the page was shown." in desk.browser.get(email).text  # once only

    desk.page()
    desk.site.clock.advance(11)  # a frame asking this late gets the draft as it is now
    summary_elsewhere(desk, "Changed before a late frame.")
    assert "Changed before a late frame." in desk.browser.get(email).text

    desk.page()
    summary_elsewhere(desk, "Changed before the frame of another editor.")
    other = sign_in(desk.site, "grace@newsroom.example")
    assert "Changed before the frame of another editor." in other.browser.get(email).text

    page = desk.page()
    summary_elsewhere(desk, "Changed before a change from the desk.")
    answer = desk.browser.submit(page, "Save note", note="A note from the desk.")
    assert answer.status_code == 303
    framed = desk.browser.get(email).text  # the change dropped the email the page left
    assert "A note from the desk." in framed and "Changed before a change from the desk." in framed

    text = desk.page(f"{PAGE}?view=text")  # no frame on this page: nothing left for one
    summary_elsewhere(desk, "Changed after the plain text page.")
    assert "Changed after the plain text page." in desk.browser.get(email).text
    assert text.status_code == 200


def test_the_emails_left_for_frames_are_few() -> None:
    frames = Frames(kept=2)
    for n in range(3):
        frames.leave(("session", SEGMENT, f"group{n}"), f"email {n}", 0.0)
    frames.leave(("session", SEGMENT, "group1"), "email 1 again", 0.0)  # the newest now
    frames.leave(("session", SEGMENT, "group3"), "email 3", 0.0)
    assert [frames.take(("session", SEGMENT, f"group{n}"), 0.0) for n in range(4)] == [
        None, "email 1 again", None, "email 3"
    ]  # fmt: skip


def test_pin_a_candidate_then_unpin_it(desk: Desk) -> None:
    page = desk.page()
    row = desk.left_out(desk.soup(page))[0]
    title = row.th.get_text(strip=True)
    soup = desk.press(page, "Pin", row["id"])
    assert desk.status(soup).startswith("status: Pinned #")
    first = desk.items(soup)[0]
    assert first.h3.get_text(strip=True) == title
    assert "Pinned" in first.find(class_="meta").get_text()
    log = soup.find(id="log-heading").find_next("table").tbody.find_all("tr")
    assert [c.get_text(strip=True) for c in log[0].find_all("td")][1:3] == [EDITOR, "pin"]

    soup = desk.press(desk.page(), "Unpin", first["id"])
    assert desk.status(soup).startswith("status: Forgot the pin of")
    assert title not in [i.h3.get_text(strip=True) for i in desk.items(soup)]


def test_pin_by_url_and_a_url_nobody_stored(desk: Desk) -> None:
    page = desk.page()
    before = [i.h3.get_text(strip=True) for i in desk.items(desk.soup(page))]
    soup = desk.press(page, "Pin", "pin-form", url="https://nowhere.example/never-stored")
    assert desk.status(soup).startswith("alert: Not done: ")
    assert "nowhere.example/never-stored" in desk.status(soup)
    assert [i.h3.get_text(strip=True) for i in desk.items(soup)] == before
    url = desk.left_out(soup)[-1].th.a["href"]
    soup = desk.press(desk.page(), "Pin", "pin-form", url=url)
    assert desk.status(soup).startswith("status: Pinned #")
    assert desk.items(soup)[0].h3.a["href"] == url


def test_exclude_move_and_include_again(desk: Desk) -> None:
    soup = desk.soup(desk.page())
    items = desk.items(soup)
    first, second = items[0]["id"], items[1]["id"]
    soup = desk.press(desk.page(), "Move down", first)
    assert desk.status(soup).startswith("status: Moved #")
    assert [i["id"] for i in desk.items(soup)][:2] == [second, first]
    soup = desk.press(desk.page(), "Move up", first)
    assert [i["id"] for i in desk.items(soup)][:2] == [first, second]

    title = desk.items(soup)[0].h3.get_text(strip=True)
    soup = desk.press(desk.page(), "Exclude", first)
    assert desk.status(soup).startswith("status: Excluded #")
    assert first not in [i["id"] for i in desk.items(soup)]
    row = next(r for r in desk.left_out(soup) if r.th.get_text(strip=True) == title)
    assert row.find_all("td")[2].get_text() == "excluded by the editor"
    soup = desk.press(desk.page(), "Include again", row["id"])
    assert first in [i["id"] for i in desk.items(soup)]


def test_edit_the_headline_and_summary_note_and_subject(desk: Desk) -> None:
    item = desk.items(desk.soup(desk.page()))[1]
    scope = item["id"]
    soup = desk.press(
        desk.page(), "Save edit", scope, title="A clearer headline", summary="Our own summary."
    )
    assert desk.status(soup).startswith("status: Edited #")
    edited = next(i for i in desk.items(soup) if i["id"] == scope)
    assert "edited" in edited["class"]
    assert edited.h3.get_text(strip=True) == "A clearer headline"
    assert "Our own summary." in edited.get_text()
    assert "Edited" in edited.find(class_="meta").get_text()
    others = [i for i in desk.items(soup) if i["id"] != scope]
    assert all("edited" not in i["class"] for i in others)
    assert "Our own summary." in desk.browser.get(f"{PAGE}/email.html").text

    soup = desk.press(desk.page(), "Save note", note="**Welcome** to the week.")
    assert desk.status(soup).startswith("status: Note:")
    assert soup.find("textarea", id="note").get_text() == "**Welcome** to the week."
    assert "<strong>Welcome</strong>" in desk.browser.get(f"{PAGE}/email.html").text
    soup = desk.press(desk.page(), "Save subject", subject="This week in tech")
    assert soup.find("input", id="subject")["value"] == "This week in tech"

    # an edition approved carries them, and uses them up
    desk.press(desk.page(), "Approve and send")
    with desk.site.store.session() as session:
        edition = session.scalars(select(Edition)).one()
        assert edition.subject == "This week in tech" and "Our own summary." in edition.text
    after = desk.soup(desk.page())
    assert after.find("textarea", id="note").get_text() == ""


def test_send_test_goes_to_the_editor_and_is_no_edition(desk: Desk) -> None:
    soup = desk.press(desk.page(), "Send test")
    line = desk.status(soup)
    assert line.startswith(f"status: Test sent to {EDITOR} through outbox at ")
    tests = sorted((desk.site.outbox / "tests").rglob("*.eml"))
    assert len(tests) == 1
    message = read_message(tests[0])
    assert message["Subject"].startswith("[Test] ")
    assert message["To"].addresses[0].addr_spec == EDITOR
    assert editions(desk.site.store) == 0
    soup = desk.press(desk.page(), "Send test", addresses="a@example.org, b@example.org")
    assert "a@example.org, b@example.org" in desk.status(soup)
    soup = desk.press(desk.page(), "Send test", addresses="not an address")
    assert desk.status(soup).startswith("alert: Not done: ")
    assert len(sorted((desk.site.outbox / "tests").rglob("*.eml"))) == 3


def test_approve_and_send_then_history_and_the_edition_page(desk: Desk) -> None:
    shown = engine.next_edition(desk.site.store, desk.site.config, SEGMENT)
    audience = readers(desk.site.store)
    soup = desk.press(desk.page(), "Approve and send")
    assert desk.status(soup) == (
        f"status: Approved and written to {audience} readers ({len(shown.items)} items)."
    )
    assert soup.find("button", string="Approve and send") is None  # nothing waits now
    with desk.site.store.session() as session:
        edition = session.scalars(select(Edition)).one()
        assert edition.approved_by == EDITOR
        sent = session.scalar(select(func.count()).select_from(Delivery))
        assert sent == audience
        first = session.get_one(Article, edition.items[0].article_id)
        first_title = first.title
    history = desk.soup(desk.page(f"{PAGE}/history"))
    row = history.find("tbody").find("tr")
    cells = [c.get_text(strip=True) for c in row.find_all(["th", "td"])]
    assert cells[3:5] == [str(audience), str(audience)] and cells[-1] == EDITOR
    link = row.th.a["href"]
    assert link == f"{DESK}/editions/{edition.id}"
    page = desk.soup(desk.page(link))
    figures = dict(zip(
        [d.get_text(strip=True) for d in page.find_all("dt")],
        [d.get_text(strip=True) for d in page.find_all("dd")],
        strict=True,
    ))  # fmt: skip
    assert figures["Approved by"] == EDITOR and figures["Recipients"] == str(audience)
    log = page.find(id="main").find("table").tbody.find_all("tr")
    assert any(r.find_all("td")[1].get_text() == EDITOR for r in log)
    web = page.find("a", string="Web version of this edition")["href"]
    assert web == f"{DESK}/editions/{edition.id}/email.html"
    rendered = desk.browser.get(web)
    assert rendered.status_code == 200
    assert escape(first_title) in rendered.text and "%%" not in rendered.text  # values filled
    assert re.search(r'href="[^"]+/unsubscribe"[^>]*>Unsubscribe<', rendered.text)  # the sample's
    assert rendered.headers["x-frame-options"] == "SAMEORIGIN"
    home = desk.soup(desk.page(f"{DESK}/"))
    assert home.find("a", href=link) is not None


def test_skip_the_edition_waiting_for_approval(desk: Desk) -> None:
    soup = desk.press(desk.page(), "Skip this edition")
    assert desk.status(soup).startswith(f"status: Skipped {SEGMENT}'s edition of ")
    assert soup.find("button", string="Approve and send") is None
    assert soup.find("button", string="Skip this edition") is None
    assert editions(desk.site.store) == 0
    log = soup.find(id="log-heading").find_next("table").tbody.find_all("tr")
    assert [c.get_text(strip=True) for c in log[0].find_all("td")][1:3] == [EDITOR, "skip"]


def test_an_approval_of_a_draft_that_changed_sends_nothing_and_shows_the_change(
    desk: Desk,
) -> None:
    seen = desk.page()
    first = desk.items(desk.soup(seen))[0]
    # another editor changes the edition after this page was shown
    engine.edit(
        desk.site.store, desk.site.config, SEGMENT, int(first["id"].removeprefix("item-")),
        "Another editor's headline", "", "bo@newsroom.example",
    )  # fmt: skip
    blind = desk.press(seen, "Approve and send", fingerprint="")
    assert desk.status(blind).startswith("alert: Not sent: the form did not say which draft")
    answer = desk.browser.submit(seen, "Approve and send")
    assert answer.status_code == 409
    soup = desk.soup(answer)
    stale = soup.find(id="stale")
    assert stale["role"] == "alert" and "nothing was sent" in stale.get_text()
    assert stale.find_all("li"), "the changes are listed"
    assert "Another editor" in stale.get_text()
    assert editions(desk.site.store) == 0
    assert not list(desk.site.outbox.rglob(f"{SEGMENT}/**/*.eml"))
    # the page shown is the edition as it is now: approving it sends it
    assert desk.items(soup)[0].h3.get_text(strip=True) == "Another editor's headline"
    answer = desk.browser.submit(answer, "Approve and send")
    assert answer.status_code == 303 and editions(desk.site.store) == 1


def test_untrusted_text_stays_text(desk: Desk) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    scope = desk.items(desk.soup(desk.page()))[0]["id"]
    desk.press(desk.page(), "Save edit", scope, title=f"Headline {hostile}", summary=hostile)
    desk.press(desk.page(), "Save note", note=f"Note {hostile} [link](javascript:alert(3))")
    soup = desk.press(desk.page(), "Save subject", subject=f"Subject {hostile}")
    assert soup.find_all("script") == [] and soup.find_all("img") == []
    item = next(i for i in desk.items(soup) if i["id"] == scope)
    assert item.h3.get_text(strip=True) == f"Headline {hostile}".replace('"', '"')
    assert soup.find("input", id="subject")["value"] == f"Subject {hostile}"
    email = BeautifulSoup(desk.browser.get(f"{PAGE}/email.html").text, "html.parser")
    assert email.find_all("script") == [] and not email.find_all("img", onerror=True)
    assert not [a for a in email.find_all("a") if a.get("href", "").startswith("javascript:")]
    for page in (f"{DESK}/", f"{PAGE}/history"):
        assert desk.soup(desk.page(page)).find_all("script") == []


def test_the_address_in_approval_notices_leads_to_the_page(desk: Desk) -> None:
    notice = engine.desk_url(desk.site.config, SEGMENT)
    answer = desk.browser.get(httpx.URL(notice).raw_path.decode())
    assert answer.status_code == 308 and answer.headers["location"] == PAGE
    anonymous = Browser(desk.site.client.app).get(answer.headers["location"])
    assert anonymous.headers["location"] == f"{DESK}/login?next={quote(PAGE, safe='')}"


def test_unknown_segments_and_editions_are_404_pages(desk: Desk) -> None:
    for url in (f"{DESK}/segments/nope", f"{DESK}/editions/999", f"{DESK}/editions/999/email.html"):
        answer = desk.browser.get(url)
        assert answer.status_code == 404
        assert desk.soup(answer).h1.get_text() == "Not found"
    refused = desk.browser.submit(desk.page(), "Save note", note="x")
    assert refused.status_code == 303


def test_a_personalised_segment_offers_its_reader_groups(newsroom: Path, store: Store) -> None:
    append_toml(newsroom, "personalised = true")  # the last table: everything-weekly
    run_digest(newsroom, "ingest")
    with open_site(newsroom, store) as site:
        desk = sign_in(site)
        for n, tags in enumerate((["ai"], ["ai"], ["politics"])):
            add_subscriber(store, f"f{n}@example.org", ("everything-weekly",), followed_tags=tags)
        add_subscriber(store, "all@example.org", ("everything-weekly",))
        url = f"{DESK}/segments/everything-weekly"
        soup = desk.soup(desk.page(url))
        chooser = soup.find("select", id="group")
        assert soup.find("label", attrs={"for": "group"}).get_text() == "Reader group"
        options = {o.get_text(strip=True): o["value"] for o in chooser.find_all("option")}
        assert options["ai: 2 readers"] == "ai"
        assert options["politics: 1 readers"] == "politics"
        assert "Readers who follow no topic (the whole edition): 1 readers" in options
        ai = desk.soup(desk.page(f"{url}?group=ai"))
        assert ai.find("iframe")["src"] == f"{url}/email.html?group=ai"
        assert ai.find("option", selected=True)["value"] == "ai"
        whole = desk.browser.get(f"{url}/email.html").text
        assert desk.browser.get(f"{url}/email.html?group=ai").text != whole


def test_an_archived_edition_links_to_its_archive_page(newsroom: Path, store: Store) -> None:
    require_approval(newsroom)
    body = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(body.replace("approval = ", "archive = true\napproval = ", 1), "utf-8")
    run_digest(newsroom, "send", "--segment", SEGMENT)
    with open_site(newsroom, store) as site:
        desk = sign_in(site)
        desk.press(desk.page(), "Approve and send")
        with store.session() as session:
            edition = session.scalars(select(Edition)).one()
            slug = edition.archive_slug
        assert slug
        page = desk.soup(desk.page(f"{DESK}/editions/{edition.id}"))
        link = page.find("a", string="Web version of this edition")["href"]
        assert link == f"https://newsroom.example/digest/archive/{SEGMENT}/{slug}/"
        assert site.client.get(httpx.URL(link).path).status_code == 200
