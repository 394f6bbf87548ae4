"""Unsubscribe: a GET shows buttons and changes nothing; the RFC 8058 one-click POST and
the buttons unsubscribe at once; a forged or altered token gets 400 and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from webtools import Site, add_subscriber, open_site

from digest.store.database import Store
from subscribers.importer import email_hash
from subscribers.models import Status, Subscriber, Suppression

ONE_CLICK = "List-Unsubscribe=One-Click"


def state(site: Site, subscriber_id: int) -> tuple[Status, set[str], bool]:
    """Status, lists and whether the address is on the suppression list."""
    with site.store.session() as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        listed = session.get(Suppression, email_hash(subscriber.email)) is not None
        return subscriber.status, subscriber.list_names, listed


def url(site: Site, subscriber_id: int, segment: str) -> str:
    return f"/unsubscribe/{site.web.links.token(subscriber_id, segment)}"


def test_get_shows_a_page_with_buttons_and_changes_nothing(site: Site) -> None:
    who = add_subscriber(site.store, "ada@example.org", ("politics-daily", "tech-weekly"))
    response = site.client.get(url(site, who, "politics-daily"))
    assert response.status_code == 200
    soup = site.soup(response)
    assert soup.find("script") is None
    assert soup.h1.get_text(strip=True) == "Unsubscribe"
    assert "a••@example.org" in soup.get_text()  # recognisable, not the whole address
    forms = soup.find_all("form")
    assert [f["method"] for f in forms] == ["post", "post"]
    buttons = [f.button.get_text(strip=True) for f in forms]
    assert buttons == ["Leave Politics Daily", "Unsubscribe from everything"]
    assert [f.find("input", attrs={"name": "action"})["value"] for f in forms] == [
        "leave",
        "everything",
    ]
    assert state(site, who) == (Status.active, {"politics-daily", "tech-weekly"}, False)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_leaves_the_list_and_answers_200(site: Site, encoding: str) -> None:
    who = add_subscriber(site.store, "ben@example.org", ("politics-daily", "tech-weekly"))
    options: dict[str, object] = (
        {"content": ONE_CLICK, "headers": {"content-type": "application/x-www-form-urlencoded"}}
        if encoding == "urlencoded"
        else {"files": {"List-Unsubscribe": (None, "One-Click")}}
    )
    response = site.client.post(url(site, who, "politics-daily"), **options)  # type: ignore[arg-type]
    assert response.status_code == 200 and "location" not in response.headers
    assert "set-cookie" not in response.headers
    assert "You have left Politics Daily" in response.text
    assert state(site, who) == (Status.active, {"tech-weekly"}, False)

    last = site.client.post(url(site, who, "tech-weekly"), **options)  # type: ignore[arg-type]
    assert last.status_code == 200 and "any more emails" in last.text
    assert state(site, who) == (Status.unsubscribed, set(), True)
    again = site.client.post(url(site, who, "tech-weekly"), **options)  # type: ignore[arg-type]
    assert again.status_code == 200
    assert state(site, who) == (Status.unsubscribed, set(), True)


def test_everything_button_unsubscribes_from_everything(site: Site) -> None:
    who = add_subscriber(site.store, "cy@example.org", ("politics-daily", "tech-weekly"))
    response = site.client.post(url(site, who, "politics-daily"), data={"action": "everything"})
    assert response.status_code == 200
    assert (
        site.soup(response)
        .find(attrs={"role": "status"})
        .get_text()
        .startswith("You will not receive any more emails")
    )
    status, _lists, listed = state(site, who)
    assert status == Status.unsubscribed and listed
    page = site.client.get(url(site, who, "politics-daily"))
    assert page.status_code == 200 and "You are unsubscribed" in page.text


def test_a_token_for_everything_or_an_unknown_segment_leaves_everything(site: Site) -> None:
    first = add_subscriber(site.store, "dee@example.org", ("politics-daily", "tech-weekly"))
    second = add_subscriber(site.store, "eli@example.org", ("politics-daily", "tech-weekly"))
    assert site.client.post(url(site, first, ""), data={"action": "leave"}).status_code == 200
    assert site.client.post(url(site, second, "retired-segment")).status_code == 200
    assert state(site, first)[0] == state(site, second)[0] == Status.unsubscribed


def test_forged_or_altered_tokens_get_400_and_change_nothing(site: Site) -> None:
    who = add_subscriber(site.store, "fay@example.org", ("politics-daily",))
    other = add_subscriber(site.store, "gus@example.org", ("politics-daily",))
    good = site.web.links.token(who, "politics-daily")
    payload, _, signature = good.partition(".")
    forged_id = site.web.links.token(other, "politics-daily").partition(".")[0] + "." + signature
    # Change a character in the middle of the signature: the last base64 character of a
    # signature carries padding bits, so changing it may leave the same bytes.
    middle = len(good) - 10
    flipped = good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]
    for bad in (flipped, forged_id, payload, "x", good + "x"):
        for method in ("GET", "POST"):
            response = site.client.request(
                method,
                f"/unsubscribe/{bad}",
                content=ONE_CLICK,
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 400, (method, bad)
            assert site.soup(response).find(attrs={"role": "alert"}) is not None
    assert state(site, who) == (Status.active, {"politics-daily"}, False)
    assert state(site, other) == (Status.active, {"politics-daily"}, False)


def test_an_erased_subscriber_gets_a_calm_answer(site: Site) -> None:
    token = site.web.links.token(987654, "politics-daily")
    assert site.client.post(f"/unsubscribe/{token}", content=ONE_CLICK).status_code == 200
    assert site.client.get(f"/unsubscribe/{token}").status_code == 200
    with site.store.session() as session:
        assert session.scalars(select(Suppression)).all() == []


def test_a_segment_for_everyone_has_only_the_everything_button(
    newsroom: Path, store: Store
) -> None:
    text = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(text + '\n[segments.all-hands]\nschedule = "0 6 * * *"\n', "utf-8")
    with open_site(newsroom, store) as site:
        who = add_subscriber(site.store, "hal@example.org", ("tech-weekly",))
        page = site.soup(site.client.get(url(site, who, "all-hands")))
        assert [b.get_text(strip=True) for b in page.find_all("button")] == [
            "Unsubscribe from everything"
        ]
        assert site.client.post(url(site, who, "all-hands"), content=ONE_CLICK).status_code == 200
        assert state(site, who) == (Status.unsubscribed, {"tech-weekly"}, True)
