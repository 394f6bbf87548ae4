"""The whole audience journey in process: sign up, confirm, receive a digest, change
preferences, leave with one click; and suppression checked again at send time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from helpers import add_edition
from sqlalchemy import select
from webtools import (
    Site,
    add_feed_item,
    add_subscriber,
    confirm_link,
    path_of,
    read_message,
    run_digest,
)

from digest.deliver.recipients import record_recipients
from digest.run.delivery import delivery_settings
from digest.run.sending import resume_edition
from digest.store.models import Delivery, DeliveryStatus, EditionStatus
from subscribers.audience import Rule
from subscribers.models import Status, Subscriber

ADDRESS = "new.reader@example.com"


def local(url: str) -> str:
    """A link from an email, as a path of the in-process app (base_url has a /digest prefix)."""
    return path_of(url).removeprefix("/digest")


def test_sign_up_confirm_receive_change_preferences_and_leave(site: Site, newsroom: Path) -> None:
    answer = site.client.post(
        "/subscribe", data={"email": ADDRESS, "name": "New Reader", "lists": "tech-weekly"}
    )
    assert answer.status_code == 200
    assert site.client.post(local(confirm_link(site.outbox, ADDRESS))).status_code == 200

    run_digest(newsroom)
    [received] = sorted((site.outbox / "tech-weekly").rglob(f"*-{ADDRESS}.eml"))
    message = read_message(received)
    assert message["To"] == f"New Reader <{ADDRESS}>"
    header = message["List-Unsubscribe"]
    one_click = re.match(r"<(https://[^>]+)>", header)
    assert one_click is not None
    html = message.get_body(("html",))
    assert html is not None
    preferences = re.search(r'href="(https://[^"]+/preferences/[^"]+)"', html.get_content())
    assert preferences is not None

    saved = site.client.post(
        local(preferences.group(1)),
        data={"lists": ["tech-weekly", "politics-daily"], "tags": ["ai"], "frequency": "weekly"},
    )
    assert saved.status_code == 200 and "Your preferences are saved." in saved.text
    with site.store.session() as session:
        reader = session.scalar(select(Subscriber).where(Subscriber.email == ADDRESS))
        assert reader is not None
        assert reader.list_names == {"tech-weekly", "politics-daily"}
        assert reader.followed_tags == ["ai"] and reader.attributes["frequency"] == "weekly"

    left = site.client.post(
        local(one_click.group(1)),
        content=message["List-Unsubscribe-Post"],
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert left.status_code == 200 and "You have left Tech Weekly" in left.text
    everything = site.client.post(local(one_click.group(1)), data={"action": "everything"})
    assert everything.status_code == 200
    with site.store.session() as session:
        status = session.scalar(select(Subscriber.status).where(Subscriber.email == ADDRESS))
    assert status == Status.unsubscribed

    add_feed_item(newsroom, "chip-rules", "New Chip Rules Announced", ["technology"])
    run_digest(newsroom, "send", "--segment", "tech-weekly", "--slot", "next")
    editions = sorted((site.outbox / "tech-weekly").glob("edition-*"))
    assert len(editions) == 2 and len(list(editions[-1].glob("*.eml"))) >= 20
    assert len(list((site.outbox / "tech-weekly").rglob(f"*-{ADDRESS}.eml"))) == 1


def test_an_address_suppressed_after_the_edition_was_recorded_is_not_sent(site: Site) -> None:
    stays = add_subscriber(site.store, "stays@example.org", ("tech-weekly",))
    leaves = add_subscriber(site.store, "leaves@example.org", ("tech-weekly",))
    with site.store.session() as session:
        edition = add_edition(
            session,
            "tech-weekly",
            "test",
            EditionStatus.sending,
            datetime.now(UTC),
            backend="outbox",
            subject="Tech Weekly",
            preheader="",
            html="<p><a href='%%unsubscribe_url%%'>Unsubscribe</a></p>",
            text="Unsubscribe: %%unsubscribe_url%%\n",
        )
        assert record_recipients(session, edition.id, Rule(lists=("tech-weekly",)), 1000) == 2
        edition_id = edition.id
    token = site.web.links.token(leaves, "tech-weekly")
    assert site.client.post(
        f"/unsubscribe/{token}", content="List-Unsubscribe=One-Click"
    ).is_success

    resume_edition(site.store, delivery_settings(site.config), "", edition_id)
    written = sorted(p.name for p in (site.outbox / "tech-weekly").rglob("*.eml"))
    assert len(written) == 1 and written[0].endswith("-stays@example.org.eml")
    with site.store.session() as session:
        rows = {d.subscriber_id: d for d in session.scalars(select(Delivery))}
    assert rows[stays].status == DeliveryStatus.sent
    assert rows[leaves].status == DeliveryStatus.failed
    assert rows[leaves].error == "suppressed: unsubscribed"
