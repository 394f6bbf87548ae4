"""Signing in to the desk: every desk page behind a session, the cookie's flags, idle
expiry, CSRF tokens, limits per address and per client, an editor removed while signed
in, signing out, and where the desk sends an editor after signing in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from webtools import Browser, Site, append_toml, open_site, set_base_url

from digest.run.editors import EditorInfo, add_editor, remove_editor
from digest.store.database import Store
from digest.store.models import EditorLog, NextEdition
from digest.web.desk.session import COOKIE, DeskSession, Sessions

DESK = "/digest/desk"
ADDRESS = "ada@newsroom.example"
PASSWORD = "a long enough password"
PROBE = f"{DESK}/segments/no-such-segment"  # a desk page that answers 404 once signed in


@pytest.fixture
def editor(site: Site) -> EditorInfo:
    return add_editor(site.store, ADDRESS, PASSWORD, "Ada")


def browser(site: Site, client: str = "127.0.0.1") -> Browser:
    return Browser(site.client.app, client=client)


def sign_in(
    site: Site,
    by: Browser | None = None,
    *,
    email: str = ADDRESS,
    password: str = PASSWORD,
    next_url: str = "",
) -> tuple[Browser, httpx.Response]:
    """Open the sign-in page and press Log in; the browser and the answer."""
    by = by or browser(site)
    page = by.get(f"{DESK}/login" + (f"?next={quote(next_url, safe='')}" if next_url else ""))
    assert page.status_code == 200
    return by, by.submit(page, "Log in", email=email, password=password)


def signed_in(by: Browser) -> bool:
    answer = by.get(PROBE)
    assert answer.status_code in (404, 303), answer.status_code
    return answer.status_code == 404


def edits(store: Store) -> int:
    with store.session() as session:
        logged = session.scalar(select(func.count()).select_from(EditorLog)) or 0
        notes = session.scalar(select(func.count()).select_from(NextEdition)) or 0
        return logged + notes


def test_the_sign_in_page_has_labelled_fields_and_a_token(site: Site) -> None:
    page = browser(site).get(f"{DESK}/login")
    soup = site.soup(page)
    form = soup.find("form", action=f"{DESK}/login")
    assert form is not None and form["method"] == "post"
    for label, kind in (("Email", "email"), ("Password", "password")):
        found = soup.find("label", string=label)
        assert found is not None
        assert soup.find(id=found["for"])["type"] == kind
    assert [b.get_text(strip=True) for b in form.find_all("button")] == ["Log in"]
    assert form.find("input", {"name": "csrf"})["value"]
    assert soup.h1 is not None and soup.find("html")["lang"] == "en"


def test_every_desk_page_needs_a_session(site: Site) -> None:
    anonymous = browser(site)
    for path, back in (
        (f"{DESK}/", ""),
        (f"{DESK}/segments/tech-weekly?view=mobile", f"{DESK}/segments/tech-weekly?view=mobile"),
        (f"{DESK}/segments/tech-weekly/email.html", f"{DESK}/segments/tech-weekly/email.html"),
        (f"{DESK}/segments/tech-weekly/history", f"{DESK}/segments/tech-weekly/history"),
        (f"{DESK}/editions/1", f"{DESK}/editions/1"),
        ("/desk/editions/1", f"{DESK}/editions/1"),  # a proxy stripped the prefix
    ):
        answer = anonymous.get(path)
        assert answer.status_code == 303, path
        expected = f"{DESK}/login" + (f"?next={quote(back, safe='')}" if back else "")
        assert answer.headers["location"] == expected
    changed = anonymous.post(f"{DESK}/segments/tech-weekly/note", data={"note": "Hello"})
    assert changed.status_code == 303
    assert changed.headers["location"] == f"{DESK}/login"
    assert edits(site.store) == 0
    assert anonymous.get(f"{DESK}").headers["location"] == f"{DESK}/"


def test_signing_in_comes_back_to_the_page_asked_for(site: Site, editor: EditorInfo) -> None:
    asked = f"{DESK}/segments/no-such-segment?view=text"
    by, answer = sign_in(site, next_url=asked)
    assert answer.status_code == 303 and answer.headers["location"] == asked
    shown = by.get(asked)
    assert shown.status_code == 404
    assert site.soup(shown).find("button", string="Log out") is not None
    # the sign-in page of an editor already signed in goes straight on
    again = by.get(f"{DESK}/login?next={quote(asked, safe='')}")
    assert again.status_code == 303 and again.headers["location"] == asked


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/digest/desk/",
        "//evil.example/digest/desk/",
        "/digest/subscribe",
        "/digest/desk/../subscribe",
        "/digest/desk/%2e%2e/subscribe",
        "/digest/desk\\..\\subscribe",
        "javascript:alert(1)",
    ],
)
def test_only_desk_pages_of_this_site_are_gone_back_to(
    site: Site, editor: EditorInfo, elsewhere: str
) -> None:
    _, answer = sign_in(site, next_url=elsewhere)
    assert answer.status_code == 303 and answer.headers["location"] == f"{DESK}/"


def cookie_of(answer: httpx.Response) -> str:
    found = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    assert len(found) == 1
    return found[0]


def test_the_session_cookie_is_httponly_lax_secure_and_limited_to_the_desk(
    site: Site, editor: EditorInfo
) -> None:
    _, answer = sign_in(site)
    flags = [part.strip().lower() for part in cookie_of(answer).split(";")]
    assert flags[0].startswith("digest_desk=")
    assert {"httponly", "secure", "samesite=lax", "path=/digest/desk", "max-age=7200"} <= set(flags)
    assert not any(f.startswith("domain=") or f.startswith("expires=19") for f in flags)


def test_no_secure_flag_on_plain_http(newsroom: Path, store: Store) -> None:
    set_base_url(newsroom, "http://localhost:8080/")
    add_editor(store, ADDRESS, PASSWORD)
    with open_site(newsroom, store) as site:
        by = Browser(site.client.app, base_url="http://localhost:8080")
        page = by.get("/desk/login")
        answer = by.submit(page, "Log in", email=ADDRESS, password=PASSWORD)
        flags = [part.strip().lower() for part in cookie_of(answer).split(";")]
        assert "path=/desk" in flags and "httponly" in flags and "secure" not in flags
        assert answer.headers["location"] == "/desk/"


def test_a_wrong_password_or_unknown_address_gets_one_answer(
    site: Site, editor: EditorInfo
) -> None:
    for email, password in ((ADDRESS, "not the password"), ("eve@newsroom.example", PASSWORD)):
        by, answer = sign_in(site, email=email, password=password)
        assert answer.status_code == 400
        soup = site.soup(answer)
        assert soup.find(role="alert").get_text() == "Wrong email address or password."
        assert soup.find("input", {"name": "email"})["value"] == email
        assert soup.find("input", {"name": "password"}).get("value") is None
        assert not signed_in(by)


def test_sign_in_attempts_are_limited_per_address(newsroom: Path, store: Store) -> None:
    append_toml(newsroom, "[desk]\nlogin_limit = 3\nlogin_window = 600")
    add_editor(store, ADDRESS, PASSWORD)
    with open_site(newsroom, store) as site:
        for n in range(3):
            _, answer = sign_in(site, browser(site, f"192.0.2.{n + 1}"), password="wrong one!")
            assert answer.status_code == 400
        # another client, another spelling of the same mailbox, the right password
        by, answer = sign_in(site, browser(site, "198.51.100.7"), email="Ada+desk@newsroom.example")
        assert answer.status_code == 429
        assert 1 <= int(answer.headers["retry-after"]) <= 200
        assert (
            site.soup(answer)
            .find(role="alert")
            .get_text()
            .startswith("Too many sign-in attempts; try again in ")
        )
        assert not signed_in(by)
        add_editor(store, "bo@newsroom.example", PASSWORD)
        _, other = sign_in(site, browser(site, "198.51.100.7"), email="bo@newsroom.example")
        assert other.status_code == 303  # the limit is the address's, not the client's


def test_sign_in_attempts_are_limited_per_client(newsroom: Path, store: Store) -> None:
    append_toml(newsroom, "[desk]\nlogin_limit = 3")
    add_editor(store, ADDRESS, PASSWORD)
    with open_site(newsroom, store) as site:
        for n in range(3):
            _, answer = sign_in(
                site, browser(site, "2001:db8:1:2::1"), email=f"guess{n}@newsroom.example"
            )
            assert answer.status_code == 400
        # the same /64, the right address and password: refused all the same
        _, answer = sign_in(site, browser(site, "2001:db8:1:2::99"))
        assert answer.status_code == 429 and answer.headers["retry-after"]
        _, elsewhere = sign_in(site, browser(site, "2001:db8:1:3::1"))
        assert elsewhere.status_code == 303


def test_signing_in_right_does_not_count_against_the_limits(newsroom: Path, store: Store) -> None:
    append_toml(newsroom, "[desk]\nlogin_limit = 2")
    add_editor(store, ADDRESS, PASSWORD)
    with open_site(newsroom, store) as site:
        for _ in range(4):
            _, answer = sign_in(site)
            assert answer.status_code == 303


def test_a_session_ends_after_the_idle_time_and_each_use_extends_it(
    site: Site, editor: EditorInfo
) -> None:
    assert site.config.desk.session_idle_minutes == 120
    by, _ = sign_in(site)
    for _ in range(3):  # six hours in all, never two without a request
        site.clock.advance(119 * 60)
        assert signed_in(by)
    site.clock.advance(121 * 60)
    answer = by.get(PROBE)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{DESK}/login?next=")
    assert answer.headers["location"].endswith("&why=expired")
    page = by.get(answer.headers["location"])
    assert "Your session ended" in site.soup(page).find(role="status").get_text()
    assert not signed_in(by)


def test_an_editor_removed_while_signed_in_loses_access_at_once(
    site: Site, editor: EditorInfo
) -> None:
    by, _ = sign_in(site)
    assert signed_in(by)
    kept = httpx.Cookies(by.cookies)
    assert remove_editor(site.store, ADDRESS)
    answer = by.get(PROBE)
    assert answer.status_code == 303 and answer.headers["location"].endswith("why=removed")
    assert "max-age=0" in cookie_of(answer).lower()
    # added again, with another password: the old session does not come back
    add_editor(site.store, ADDRESS, "another long password")
    by.cookies = kept
    assert not signed_in(by)
    changed = by.post(f"{DESK}/segments/tech-weekly/note", data={"note": "Hi"})
    assert changed.status_code == 303 and edits(site.store) == 0


def csrf_of(page: httpx.Response) -> str:
    field = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf"})
    assert field is not None
    return str(field["value"])


def test_a_change_without_the_session_token_is_refused(site: Site, editor: EditorInfo) -> None:
    by, _ = sign_in(site)
    other, _ = sign_in(site, browser(site, "192.0.2.50"))
    theirs = csrf_of(other.get(PROBE))
    note = f"{DESK}/segments/tech-weekly/note"
    for data in ({"note": "Hi"}, {"note": "Hi", "csrf": ""}, {"note": "Hi", "csrf": "forged"},
                 {"note": "Hi", "csrf": theirs}):  # fmt: skip
        answer = by.post(note, data=data)
        assert answer.status_code == 403
        alert = site.soup(answer).find(role="alert").get_text()
        assert alert.startswith("This form has expired or did not come from the desk")
    assert edits(site.store) == 0
    assert signed_in(by)


def test_the_sign_in_form_needs_its_token_too(site: Site, editor: EditorInfo) -> None:
    by = browser(site)
    answer = by.post(f"{DESK}/login", data={"email": ADDRESS, "password": PASSWORD})
    assert answer.status_code == 403
    assert site.soup(answer).find(role="alert").get_text().startswith("The sign-in form had")
    assert not signed_in(by)
    # the page it answered with carries a fresh token that works
    retry = by.submit(answer, "Log in", email=ADDRESS, password=PASSWORD)
    assert retry.status_code == 303 and signed_in(by)


def test_log_out(site: Site, editor: EditorInfo) -> None:
    by, _ = sign_in(site)
    page = by.get(PROBE)
    refused = by.post(f"{DESK}/logout", data={})
    assert refused.status_code == 403 and signed_in(by)
    answer = by.submit(page, "Log out")
    assert answer.status_code == 303 and answer.headers["location"] == f"{DESK}/login?why=out"
    assert "max-age=0" in cookie_of(answer).lower()
    assert not signed_in(by)
    assert site.soup(by.get(answer.headers["location"])).find(role="status").get_text() == (
        "You are signed out."
    )


def test_log_out_ends_every_session_of_the_editor_a_copied_cookie_too(
    site: Site, editor: EditorInfo
) -> None:
    phone, _ = sign_in(site)
    laptop, _ = sign_in(site)
    copied = browser(site)
    copied.cookies = httpx.Cookies(laptop.cookies)  # someone kept the laptop's cookie
    assert signed_in(phone) and signed_in(laptop) and signed_in(copied)
    laptop.submit(laptop.get(PROBE), "Log out")
    assert not signed_in(laptop)
    assert not signed_in(copied)  # the copy of the cookie is worth nothing now
    assert not signed_in(phone)  # and every other session of the editor has ended
    again, answer = sign_in(site)
    assert answer.status_code == 303 and signed_in(again)  # a new sign-in works


def test_desk_pages_are_private_and_frame_only_the_desk(site: Site, editor: EditorInfo) -> None:
    by, _ = sign_in(site)
    for answer in (browser(site).get(f"{DESK}/login"), by.get(PROBE)):
        headers = answer.headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        policy = headers.get_list("content-security-policy")
        assert len(policy) == 1
        assert "frame-src 'self'" in policy[0] and "frame-ancestors 'none'" in policy[0]
        assert "script-src" not in policy[0] and "default-src 'none'" in policy[0]
    public = site.client.get("/digest/subscribe").headers
    assert "frame-src" not in public["content-security-policy"]
    assert "set-cookie" not in public


@pytest.fixture
def two_sites(newsroom: Path, store: Store) -> Iterator[tuple[Site, Site]]:
    with open_site(newsroom, store) as one, open_site(newsroom, store) as two:
        yield one, two


def test_a_session_survives_a_restart_of_the_app(
    two_sites: tuple[Site, Site], store: Store
) -> None:
    first, second = two_sites
    add_editor(store, ADDRESS, PASSWORD)
    by, _ = sign_in(first)
    by.app = second.client.app  # the same secret comes from the store
    assert signed_in(by)


def test_the_cookie_cannot_be_altered_and_carries_a_short_message() -> None:
    sessions = Sessions("secret", "/desk", secure=True, idle_seconds=60)
    response = Response()
    sessions.write(response, DeskSession(1, "k", "token", 0.0, ("status", "é" * 1000)), 100.0)
    value = response.headers["set-cookie"].split(";")[0].removeprefix(f"{COOKIE}=")
    assert len(value) < 4096

    def read(cookie: str) -> DeskSession | None:
        header = (b"cookie", f"{COOKIE}={cookie}".encode())
        return sessions.read(Request({"type": "http", "headers": [header]}))

    found = read(value)
    assert found is not None and (found.editor_id, found.seen) == (1, 100.0)
    assert found.flash == ("status", "é" * 299 + "…")
    payload, _, signature = value.rpartition(".")
    altered = ("A" if payload[0] != "A" else "B") + payload[1:]
    assert read(f"{altered}.{signature}") is None
    assert read(value[:-2]) is None
    other = Sessions("another secret", "/desk", secure=True, idle_seconds=60)
    assert (
        other.read(
            Request({"type": "http", "headers": [(b"cookie", f"{COOKIE}={value}".encode())]})
        )
        is None
    )
