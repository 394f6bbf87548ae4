"""Double opt-in through the web app: the form, the same answer for every address, the
confirmation email and its signed, expiring link, and the rate limits."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from webtools import (
    Site,
    add_subscriber,
    confirm_link,
    confirmations,
    path_of,
)

from digest.deliver.message import Outgoing, Recipient
from digest.store.database import Store
from digest.web.ratelimit import RateLimiter
from subscribers.models import Status, Subscriber, Suppression
from subscribers.suppression import suppress_address


def subscriber(store: Store, address: str) -> Subscriber | None:
    with store.session() as session:
        return session.scalar(select(Subscriber).where(Subscriber.email == address))


def alert_of(site: Site, response: httpx.Response) -> str:
    assert response.status_code == 400
    alert = site.soup(response).find(attrs={"role": "alert"})
    assert alert is not None
    return alert.get_text()


def sign_up(
    site: Site, address: str, lists: tuple[str, ...] = ("tech-weekly",), **more: str
) -> httpx.Response:
    return site.client.post("/subscribe", data={"email": address, "lists": list(lists), **more})


def test_the_form_is_plain_accessible_html(site: Site) -> None:
    response = site.client.get("/subscribe")
    assert response.status_code == 200
    soup = site.soup(response)
    assert soup.html is not None and soup.html.get("lang") == "en"
    assert soup.find("script") is None and soup.find(attrs={"onclick": True}) is None
    form = soup.find("form")
    assert (
        form is not None
        and form.get("method") == "post"
        and form.get("action") == "/digest/subscribe"
    )
    for field in form.find_all("input", attrs={"type": ["email", "text", "checkbox"]}):
        label = soup.find("label", attrs={"for": field["id"]})
        assert label is not None and label.get_text(strip=True), field
    boxes = {box["value"] for box in form.find_all("input", attrs={"name": "lists"})}
    assert boxes == {"politics-daily", "tech-weekly", "everything-weekly"}
    assert form.find("fieldset").legend.get_text(strip=True) == "Digests"
    assert form.find("button", attrs={"type": "submit"}).get_text(strip=True) == "Subscribe"
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_sign_up_confirm_by_button_only(site: Site) -> None:
    response = sign_up(
        site, "Grace@Example.org", ("tech-weekly",), name="Grace", tags="AI, Security"
    )
    assert response.status_code == 200
    assert site.soup(response).h1.get_text(strip=True) == "Check your inbox"
    pending = subscriber(site.store, "grace@example.org")
    assert pending is not None and pending.status == Status.pending
    assert pending.list_names == {"tech-weekly"} and pending.followed_tags == ["ai", "security"]
    assert pending.confirmed_at is None

    [mail] = confirmations(site.outbox, "grace@example.org")
    assert "Confirm your subscription" in mail.read_text(encoding="utf-8")
    link = confirm_link(site.outbox, "grace@example.org")
    assert link.startswith("https://newsroom.example/digest/confirm/")

    page = site.client.get(path_of(link).removeprefix("/digest"))
    assert page.status_code == 200
    soup = site.soup(page)
    form = soup.find("form")
    assert form is not None and form["method"] == "post"
    assert form.button.get_text(strip=True) == "Confirm my subscription"
    assert soup.find("script") is None
    still = subscriber(site.store, "grace@example.org")
    assert still is not None and still.status == Status.pending  # a GET never confirms

    done = site.client.post(path_of(link).removeprefix("/digest"))
    assert done.status_code == 200 and "confirmed" in done.text
    active = subscriber(site.store, "grace@example.org")
    assert active is not None and active.status == Status.active and active.confirmed_at
    again = site.client.post(path_of(link).removeprefix("/digest"))
    assert again.status_code == 200 and "already confirmed" in again.text


def test_json_sign_up(site: Site) -> None:
    response = site.client.post(
        "/subscribe",
        json={"email": "ada@example.net", "lists": ["politics-daily"], "tags": ["World"]},
    )
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    stored = subscriber(site.store, "ada@example.net")
    assert stored is not None and stored.followed_tags == ["world"]
    bad = site.client.post("/subscribe", json={"email": "not-an-address", "lists": ["tech-weekly"]})
    assert bad.status_code == 400 and "not a valid email address" in bad.json()["error"]
    assert site.client.post("/subscribe", json=["x"]).status_code == 400
    assert (
        site.client.post(
            "/subscribe", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_the_same_answer_whatever_the_address(site: Site) -> None:
    add_subscriber(site.store, "active@example.com", ("tech-weekly",))
    with site.store.session() as session:
        suppress_address(session, "gone@example.com", Status.unsubscribed, site.clock())
    sign_up(site, "pending@example.com")
    answers = {
        address: sign_up(site, address).text
        for address in (
            "new@example.com",
            "active@example.com",
            "gone@example.com",
            "pending@example.com",
        )
    }
    assert len(set(answers.values())) == 1
    assert len(confirmations(site.outbox, "new@example.com")) == 1
    assert len(confirmations(site.outbox, "pending@example.com")) == 2  # a second link
    assert confirmations(site.outbox, "active@example.com") == []
    assert confirmations(site.outbox, "gone@example.com") == []  # suppressed: never mailed
    assert subscriber(site.store, "gone@example.com") is None


def test_form_errors_keep_the_values_and_change_nothing(site: Site) -> None:
    response = sign_up(site, "broken@", ("tech-weekly",), name="Bo")
    assert response.status_code == 400
    soup = site.soup(response)
    alert = soup.find(attrs={"role": "alert"})
    assert alert is not None and "not a valid email address" in alert.get_text()
    field = soup.find("input", attrs={"name": "email"})
    assert field["value"] == "broken@" and field["aria-invalid"] == "true"
    assert soup.find("input", attrs={"name": "name"})["value"] == "Bo"
    assert soup.find("input", attrs={"value": "tech-weekly"}).has_attr("checked")

    assert "choose at least one list" in alert_of(site, sign_up(site, "x@example.com", ()))
    assert "unknown list 'staff'" in alert_of(site, sign_up(site, "x@example.com", ("staff",)))
    multipart = site.client.post("/subscribe", files={"email": (None, "x@example.com")})
    assert multipart.status_code == 415
    with site.store.session() as session:
        assert session.scalars(select(Subscriber)).all() == []


def test_forged_altered_and_expired_confirmation_links(site: Site) -> None:
    sign_up(site, "eve@example.com")
    path = path_of(confirm_link(site.outbox, "eve@example.com")).removeprefix("/digest")
    token = path.rsplit("/", 1)[1]
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (altered, "forged", token[:20], token + "x"):
        for method in ("GET", "POST"):
            response = site.client.request(method, f"/confirm/{bad}")
            assert response.status_code == 400, (method, bad)
            assert site.soup(response).find(attrs={"role": "alert"}) is not None
    site.clock.advance(site.config.web.confirm_max_age + 1)
    expired = site.client.post(path)
    assert expired.status_code == 400 and "expired" in expired.text
    stored = subscriber(site.store, "eve@example.com")
    assert stored is not None and stored.status == Status.pending


def test_a_link_never_confirms_an_address_that_left(site: Site) -> None:
    sign_up(site, "later@example.com")
    path = path_of(confirm_link(site.outbox, "later@example.com")).removeprefix("/digest")
    with site.store.session() as session:
        suppress_address(session, "later@example.com", Status.unsubscribed, site.clock())
    response = site.client.post(path)
    assert response.status_code == 200 and "will not be mailed again" in response.text
    stored = subscriber(site.store, "later@example.com")
    assert stored is not None and stored.status == Status.unsubscribed


def test_rate_limits_per_ip_and_per_address(site: Site) -> None:
    ticks = [0.0]
    site.web.by_ip = RateLimiter(3, 60, clock=lambda: ticks[0])
    site.web.by_address = RateLimiter(2, 60, clock=lambda: ticks[0])
    assert [sign_up(site, "same@example.com").status_code for _ in range(3)] == [200, 200, 429]
    site.web.by_ip = RateLimiter(100, 60, clock=lambda: ticks[0])
    limited = sign_up(site, "same@example.com")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert len(confirmations(site.outbox, "same@example.com")) == 2
    assert sign_up(site, "other@example.com").status_code == 200
    ticks[0] += 31  # one token back per 30 s
    assert sign_up(site, "same@example.com").status_code == 200
    json_limited = site.client.post(
        "/subscribe", json={"email": "same@example.com", "lists": ["tech-weekly"]}
    )
    assert json_limited.status_code == 429 and "try again" in json_limited.json()["error"]


def test_suppression_hash_is_kept(site: Site) -> None:
    with site.store.session() as session:
        suppress_address(session, "Hash@Example.com", Status.bounced, site.clock())
        rows = session.scalars(select(Suppression)).all()
    assert len(rows) == 1 and rows[0].reason == "bounced" and len(rows[0].email_hash) == 64


def confirmations_to(outbox: Path, address: str) -> list[EmailMessage]:
    """Confirmation emails whose To is ``address`` (file names keep ASCII only). Read as
    UTF-8 text: an SMTPUTF8 message's headers are UTF-8 (RFC 6532)."""
    found = [
        email.message_from_string(path.read_text(encoding="utf-8"), policy=email.policy.default)
        for path in sorted((outbox / "confirmations").rglob("*.eml"))
    ]
    return [m for m in found if m["To"].addresses[0].addr_spec == address]


def test_an_internationalised_address_is_stored_normalised_and_gets_its_confirmation(
    site: Site,
) -> None:
    response = sign_up(site, " 用户@EXAMPLE.com ", name="Zhang Wei")
    assert response.status_code == 200
    stored = subscriber(site.store, "用户@example.com")
    assert stored is not None and stored.status == Status.pending

    (mail,) = confirmations_to(site.outbox, "用户@example.com")
    text = mail.get_body(("plain",))
    assert text is not None
    match = re.search(r"(https?://\S+/confirm/\S+)", text.get_content())
    assert match is not None
    done = site.client.post(path_of(match.group(1)).removeprefix("/digest"))
    assert done.status_code == 200 and "confirmed" in done.text
    active = subscriber(site.store, "用户@example.com")
    assert active is not None and active.status == Status.active


class BrokenBackend:
    """A backend failing in a way no backend should: the sign-up must not notice."""

    name = "broken"
    idempotent = True

    def send_batch(self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int) -> Any:
        raise RuntimeError("disk on\nfire")

    def close(self) -> None:
        return None


def test_a_confirmation_that_fails_is_logged_in_one_line_and_never_raised(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.web.make_backend = BrokenBackend
    with caplog.at_level(logging.ERROR, logger="digest.web"):
        response = sign_up(site, "someone@example.com")
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "digest.web"]
    line = record.getMessage()
    assert "\n" not in line and record.exc_info is None
    assert line.startswith("confirmation for subscriber ") and "RuntimeError: disk on fire" in line
    stored = subscriber(site.store, "someone@example.com")
    assert stored is not None and stored.status == Status.pending


def test_tags_are_limited_in_length_and_number(site: Site) -> None:
    long = sign_up(site, "tags@example.com", tags="ai, " + "y" * 15_000)
    assert "a topic may have at most 50 characters" in alert_of(site, long)
    many = sign_up(site, "tags@example.com", tags=",".join(f"t{n}" for n in range(51)))
    assert "follow at most 50 topics" in alert_of(site, many)
    as_json = site.client.post("/subscribe", json={"email": "tags@example.com",
                               "lists": ["tech-weekly"], "tags": ["z" * 51]})  # fmt: skip
    assert as_json.status_code == 400 and "at most 50 characters" in as_json.json()["error"]
    assert subscriber(site.store, "tags@example.com") is None
    fine = sign_up(site, "tags@example.com", tags="z" * 50)
    assert fine.status_code == 200
    found = subscriber(site.store, "tags@example.com")
    assert found is not None and found.followed_tags == ["z" * 50]
