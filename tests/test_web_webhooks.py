"""SendGrid's signed Event Webhook: signatures, the replay window, de-duplication,
suppression from bounces and complaints, and per-article engagement."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from webtools import (
    Signer,
    Site,
    add_feed_item,
    add_subscriber,
    append_toml,
    events_body,
    open_site,
    run_digest,
)

from digest.errors import ConfigError
from digest.store.database import Store
from digest.store.engagement import engagement
from digest.store.models import Article, ArticleEngagement, Delivery, Edition, EditionItem
from digest.web.app import create_app
from subscribers.importer import email_hash
from subscribers.models import Status, Subscriber, Suppression

HOOK = "/webhooks/sendgrid"


def post(site: Site, *events: dict[str, Any], signer: Signer | None = None, at: int | None = None):  # type: ignore[no-untyped-def]
    body = events_body(*events)
    stamp = int(site.clock().timestamp()) if at is None else at
    return site.client.post(
        HOOK, content=body, headers=(signer or site.signer).headers(body, stamp)
    )


def status_of(site: Site, address: str) -> Status | None:
    with site.store.session() as session:
        found = session.scalar(select(Subscriber.status).where(Subscriber.email == address))
        return found


def event(kind: str, address: str = "", n: int = 0, **more: Any) -> dict[str, Any]:
    return {
        "email": address,
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": f"{kind}-{address}-{n}",
        "sg_message_id": "abc.filter0001",
        **more,
    }


def test_a_bounce_or_a_complaint_keeps_the_address_out_of_the_next_send(
    site: Site, newsroom: Path
) -> None:
    run_digest(newsroom)
    assert status_of(site, "amara.okafor@example.org") == Status.active
    response = post(
        site,
        event("bounce", "amara.okafor@example.org", type="bounce", reason="550 5.1.1 no such user"),
        event("spamreport", "zoe.mueller@example.com"),
        event("bounce", "jose.alvarez@example.net", type="blocked", reason="IP reputation"),
    )
    assert response.status_code == 200
    assert response.json() == {
        "received": 3,
        "applied": 2,
        "duplicates": 0,
        "ignored": 1,
        "malformed": 0,
    }
    assert status_of(site, "amara.okafor@example.org") == Status.bounced
    assert status_of(site, "zoe.mueller@example.com") == Status.complained
    assert status_of(site, "jose.alvarez@example.net") == Status.active  # blocked: not the address
    with site.store.session() as session:
        reasons = {r.email_hash: r.reason for r in session.scalars(select(Suppression))}
    assert reasons == {
        email_hash("amara.okafor@example.org"): "bounced",
        email_hash("zoe.mueller@example.com"): "complained",
    }

    add_feed_item(newsroom, "harbour-vote", "Harbour Council Votes on New Ferry", ["world"])
    run_digest(newsroom, "send", "--segment", "everything-weekly", "--slot", "next")
    with site.store.session() as session:
        latest = session.scalar(
            select(Edition.id)
            .where(Edition.segment == "everything-weekly")
            .order_by(Edition.id.desc())
        )
        recipients = set(
            session.scalars(select(Delivery.email).where(Delivery.edition_id == latest))
        )
    assert "jose.alvarez@example.net" in recipients
    assert not {"amara.okafor@example.org", "zoe.mueller@example.com"} & recipients
    written = {
        p.name for p in (site.outbox / "everything-weekly" / f"edition-{latest}").glob("*.eml")
    }
    assert not any("amara" in n or "zoe" in n for n in written)
    assert any("jose" in n for n in written)


def test_forged_stale_and_unsigned_posts_get_403_and_change_nothing(site: Site) -> None:
    add_subscriber(site.store, "pat@example.org")
    bounce = event("bounce", "pat@example.org")
    body = events_body(bounce)
    now = int(site.clock().timestamp())
    good = site.signer.headers(body, now)
    attempts = {
        "unsigned": {"content-type": "application/json"},
        "other key": Signer().headers(body, now),
        "stale": site.signer.headers(body, now - 601),
        "future": site.signer.headers(body, now + 601),
        "timestamp swapped": {**good, "X-Twilio-Email-Event-Webhook-Timestamp": str(now - 1)},
        "not base64": {**good, "X-Twilio-Email-Event-Webhook-Signature": "!!!"},
        "not a number": {**good, "X-Twilio-Email-Event-Webhook-Timestamp": "soon"},
    }
    for name, headers in attempts.items():
        response = site.client.post(HOOK, content=body, headers=headers)
        assert response.status_code == 403, name
    altered = body.replace(b"pat@", b"pam@")
    assert site.client.post(HOOK, content=altered, headers=good).status_code == 403
    respaced = body.replace(b", ", b",")  # the same JSON, other bytes: signatures cover bytes
    assert site.client.post(HOOK, content=respaced, headers=good).status_code == 403
    assert status_of(site, "pat@example.org") == Status.active
    inside = post(site, bounce, at=now - 599)
    assert inside.status_code == 200 and status_of(site, "pat@example.org") == Status.bounced


def test_without_a_key_posts_are_refused_unless_unsigned_ones_are_allowed(
    newsroom: Path, store: Store
) -> None:
    add_subscriber(store, "quin@example.org")
    body = events_body(event("spamreport", "quin@example.org"))
    with open_site(newsroom, store, webhook_key="") as site:
        refused = site.client.post(HOOK, content=body, headers=site.signer.headers(body))
        assert refused.status_code == 403 and "SENDGRID_WEBHOOK_PUBLIC_KEY" in refused.text
    append_toml(newsroom, "[web]\nunsigned_webhooks = true")
    with open_site(newsroom, store, webhook_key="") as site:
        plain = {"content-type": "application/json"}
        assert site.client.post(HOOK, content=body, headers=plain).status_code == 200
        assert status_of(site, "quin@example.org") == Status.complained


def test_duplicates_unknown_and_malformed_events(site: Site) -> None:
    add_subscriber(site.store, "rae@example.org")
    batch = [
        event("processed", "rae@example.org"),
        event("delivered", "rae@example.org"),
        event("group_resubscribe", "rae@example.org"),
        event("brand_new_kind", "rae@example.org"),
        event("dropped", "rae@example.org", reason="Invalid SMTPAPI header"),
        event("group_unsubscribe", "rae@example.org", asm_group_id=1),
        event("unsubscribe", "nobody@example.org"),
        event("dropped", "", reason="Bounced Address"),
    ]
    first = post(site, *batch, "not an event", 7)  # type: ignore[arg-type]
    assert first.status_code == 200
    assert first.json() == {
        "received": 10,
        "applied": 2,
        "duplicates": 0,
        "ignored": 6,
        "malformed": 2,
    }
    assert status_of(site, "rae@example.org") == Status.unsubscribed
    with site.store.session() as session:  # an address we never had stays out anyway
        assert session.get(Suppression, email_hash("nobody@example.org")) is not None
    second = post(site, *batch)
    assert second.json() == {
        "received": 8,
        "applied": 0,
        "duplicates": 8,
        "ignored": 0,
        "malformed": 0,
    }

    body = b'[{"event": "bounce"'
    assert (
        site.client.post(HOOK, content=body, headers=site.signer.headers(body)).status_code == 400
    )
    body = b'{"event": "bounce"}'
    assert (
        site.client.post(HOOK, content=body, headers=site.signer.headers(body)).status_code == 400
    )


def test_dropped_reasons_map_to_statuses(site: Site) -> None:
    for address in ("sam@example.org", "tia@example.org", "uma@example.org"):
        add_subscriber(site.store, address)
    post(
        site,
        event("dropped", "sam@example.org", reason="Bounced Address"),
        event("dropped", "tia@example.org", reason="Invalid"),
        event("dropped", "uma@example.org", reason="Spam Reporting Address"),
    )
    assert status_of(site, "sam@example.org") == Status.bounced
    assert status_of(site, "tia@example.org") == Status.bounced
    assert status_of(site, "uma@example.org") == Status.complained
    post(site, event("unsubscribe", "uma@example.org"))  # a milder reason never wins
    assert status_of(site, "uma@example.org") == Status.complained


def test_opens_and_clicks_count_per_article(site: Site, newsroom: Path) -> None:
    run_digest(newsroom)
    with site.store.session() as session:
        edition = session.scalar(select(Edition).where(Edition.segment == "tech-weekly"))
        assert edition is not None
        items = list(
            session.scalars(
                select(Article).join(EditionItem).where(EditionItem.edition_id == edition.id)
            )
        )
    clicked = items[0]
    args = {"edition": str(edition.id), "segment": "tech-weekly"}
    batch = [
        event("open", "a@example.org", 1, **args),
        event("open", "b@example.org", 2, **args),
        event("open", "c@example.org", 3, sg_machine_open=True, **args),
        event("click", "a@example.org", 4, url=clicked.url + "?utm_source=newsletter", **args),
        event("click", "a@example.org", 5, url="https://elsewhere.example/", **args),
        event("open", "d@example.org", 6, edition="999999"),
        event("open", "d@example.org", 7),
    ]
    response = post(site, *batch)
    assert response.json() == {
        "received": 7,
        "applied": 3,
        "duplicates": 0,
        "ignored": 4,
        "malformed": 0,
    }
    assert post(site, *batch).json()["duplicates"] == 7
    with site.store.session() as session:
        rows = session.scalars(select(ArticleEngagement)).all()
        assert {r.article_id for r in rows} == {a.id for a in items}
        assert {r.opens for r in rows} == {2}
        assert {r.article_id: r.clicks for r in rows if r.clicks} == {clicked.id: 1}
        summary = engagement(session, [a.id for a in items])
    assert summary[clicked.id].click_rate == 0.5


def test_a_bad_public_key_is_one_clear_error(newsroom: Path, store: Store) -> None:
    from digest.config import load_config

    with pytest.raises(ConfigError, match="SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid public key"):
        create_app(load_config(newsroom), store, webhook_key="bm90IGEga2V5")
