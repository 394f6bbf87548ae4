"""`digest subscribers export-one` and `erase`: access and erasure requests, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import subscribers_cli, write_audience_config
from sqlalchemy import select

from digest.store.database import open_store
from digest.store.models import (
    Batch,
    BatchStatus,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
)
from subscribers.importer import email_hash
from subscribers.models import Membership, Status, Subscriber, Suppression

SENT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
PEOPLE = (
    '{"email": "Ann@Example.com", "name": "Ann Lee", "lists": ["daily"], '
    '"followed_tags": ["politics"], "frequency": "weekly", "timezone": "Europe/Helsinki", '
    '"locale": "fi-FI", "attributes": {"plan": "pro"}, '
    '"signed_up_at": "2026-01-05T10:00:00Z", "confirmed_at": "2026-01-05T10:05:00Z"}\n'
    '{"email": "bob@example.org", "name": "Bob", "lists": ["daily"]}\n'
)


@pytest.fixture
def run(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    config = write_audience_config(tmp_path / "digest.toml", database_url)
    people = tmp_path / "people.jsonl"
    people.write_text(PEOPLE, encoding="utf-8")
    assert subscribers_cli(capsys, config, "import", str(people)).code == 0
    with open_store(database_url) as store, store.session() as session:
        ids = {s.email: s.id for s in session.scalars(select(Subscriber))}
        for number, subject in ((1, "Week 9"), (2, "Week 10")):
            edition = Edition(
                segment="everyone",
                slot=f"slot {number}",
                status=EditionStatus.sent,
                created_at=SENT.replace(day=number),
                sent_at=SENT.replace(day=number),
                subject=subject,
                html="<p>{{name}}</p>",
                text="{{name}}",
            )
            session.add(edition)
            session.flush()
            for email, subscriber_id in sorted(ids.items()):
                session.add(
                    Delivery(
                        edition_id=edition.id,
                        subscriber_id=subscriber_id,
                        email=email,
                        batch=1,
                        status=DeliveryStatus.sent if number == 1 else DeliveryStatus.failed,
                        error="" if number == 1 else f"550 mailbox {email} unavailable",
                        sent_at=SENT.replace(day=number) if number == 1 else None,
                    )
                )
            session.add(
                Batch(
                    edition_id=edition.id,
                    number=1,
                    size=2,
                    status=BatchStatus.sent if number == 1 else BatchStatus.failed,
                    last_error="" if number == 1 else "invalid recipient ann@example.com",
                )
            )
    return database_url, config


def test_export_one_prints_everything_held_about_a_person(
    run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _url, config = run
    ran = subscribers_cli(capsys, config, "export-one", " ANN@example.COM ")
    assert (ran.code, ran.err) == (0, "")
    data = json.loads(ran.out)
    assert isinstance(data.pop("id"), int)
    assert data == {
        "email": "ann@example.com",
        "name": "Ann Lee",
        "status": "active",
        "frequency": "weekly",
        "timezone": "Europe/Helsinki",
        "locale": "fi-FI",
        "followed_tags": ["politics"],
        "lists": ["daily"],
        "attributes": {"plan": "pro"},
        "signed_up_at": "2026-01-05T10:00:00+00:00",
        "confirmed_at": "2026-01-05T10:05:00+00:00",
        "suppressed": None,
        "deliveries": [
            {
                "edition": data["deliveries"][0]["edition"],
                "segment": "everyone",
                "subject": "Week 9",
                "status": "sent",
                "sent_at": "2026-03-01T07:00:00+00:00",
            },
            {
                "edition": data["deliveries"][1]["edition"],
                "segment": "everyone",
                "subject": "Week 10",
                "status": "failed",
                "sent_at": None,
            },
        ],
    }


def test_erase_removes_the_person_and_keeps_the_address_suppressed(
    run: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, config = run
    with open_store(url) as store, store.session() as session:
        ann_id = session.scalars(
            select(Subscriber.id).where(Subscriber.email == "ann@example.com")
        ).one()
    ran = subscribers_cli(capsys, config, "erase", "Ann@Example.com")
    placeholder = f"erased-{ann_id}@invalid"
    assert (ran.code, ran.err) == (0, "")
    assert ran.out == (
        "erased ann@example.com: personal data removed, 2 ledger rows scrubbed, "
        f"address suppressed (now subscriber {ann_id}, {placeholder})\n"
    )
    with open_store(url) as store, store.session() as session:
        ann = session.get(Subscriber, ann_id)
        assert ann is not None
        assert (ann.email, ann.name, ann.status) == (placeholder, "", Status.unsubscribed)
        assert (ann.timezone, ann.locale, ann.followed_tags, ann.attributes) == ("UTC", "", [], {})
        assert ann.lists == []
        members = session.execute(select(Membership.subscriber_id, Membership.list_name)).all()
        assert [name for owner, name in members if owner == ann_id] == []
        assert [name for owner, name in members if owner != ann_id] == ["daily"]  # Bob's
        suppression = session.get(Suppression, email_hash("ann@example.com"))
        assert suppression is not None and suppression.reason == "erased"
        ledger = session.execute(
            select(Delivery.email, Delivery.error).where(Delivery.subscriber_id == ann_id)
        ).all()
        assert sorted(ledger) == [
            (placeholder, ""),
            (placeholder, f"550 mailbox {placeholder} unavailable"),
        ]
        texts = [select(Delivery.email), select(Delivery.error), select(Batch.last_error)]
        everything = " ".join(text for query in texts for text in session.scalars(query))
        assert "ann@example.com" not in everything
        assert "bob@example.org" in everything  # others are left alone
    gone = subscribers_cli(capsys, config, "export-one", "ann@example.com")
    assert (gone.code, gone.out) == (1, "")
    assert gone.err == (
        "error: ann@example.com: no subscriber has this address; check the spelling "
        "(an erased address is not kept)\n"
    )
    assert subscribers_cli(capsys, config, "export-one", placeholder).code == 1
    export = subscribers_cli(capsys, config, "export").out
    assert "ann@example.com" not in export and "erased-" not in export
    # a later import of the address stays suppressed: it is not stored again
    again = config.parent / "again.csv"
    again.write_text("email,name,status\nANN@example.com,Ann,active\n", encoding="utf-8")
    ran = subscribers_cli(capsys, config, "import", str(again))
    assert ran.out.strip().endswith(
        "0 added, 0 updated, 0 unchanged, 1 kept suppressed, 0 rejected"
    )
    assert subscribers_cli(capsys, config, "export-one", "ann@example.com").code == 1
    with open_store(url) as store, store.session() as session:
        emails = set(session.scalars(select(Subscriber.email)))
    assert emails == {placeholder, "bob@example.org"}


@pytest.mark.parametrize("command", ["export-one", "erase"])
def test_an_unknown_address_is_one_line(
    run: tuple[str, Path], capsys: pytest.CaptureFixture[str], command: str
) -> None:
    _url, config = run
    ran = subscribers_cli(capsys, config, command, "nobody@example.com")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == (
        "error: nobody@example.com: no subscriber has this address; check the spelling "
        "(an erased address is not kept)\n"
    )
    ran = subscribers_cli(capsys, config, command, "not an address")
    assert ran.code == 1 and len(ran.err.splitlines()) == 1
