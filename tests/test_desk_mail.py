"""Test sends from the desk: the next edition as readers get it, subject "[Test] ...", to the
editor or a few addresses, through the configured backend (the outbox, a real SMTP server,
the SendGrid stand-in), never in the ledger nor in any figure, and logged."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpers import Inbox
from sendgrid_standin import SendGridStandIn
from sqlalchemy import func, select

from digest.config import Config, load_config
from digest.errors import DigestError
from digest.intake.ingest import ingest_all
from digest.render.inbox import SUBJECT_LIMIT, cut
from digest.run import desk
from digest.run.desk_mail import TESTS, outbox_folder
from digest.run.overview import history
from digest.store.database import Store
from digest.store.models import Delivery, Edition
from subscribers.tokens import TokenSigner

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
POLITICS = "politics-daily"
EDITOR = "ed@newsroom.example"


def loaded(newsroom: Path, store: Store, backend: str = "outbox", smtp: int = 0) -> Config:
    text = newsroom.read_text(encoding="utf-8").replace(
        'backend = "outbox"', f'backend = "{backend}"'
    )
    if smtp:
        text = text.replace('host = "smtp.newsroom.example"', 'host = "127.0.0.1"')
        text = text.replace("port = 587", f"port = {smtp}").replace('username = "digest"', "")
        text = text.replace('security = "starttls"', 'security = "none"')
    newsroom.write_text(text, encoding="utf-8")
    config = load_config(newsroom)
    ingest_all(store, config, NOW)
    return config


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def nothing_recorded(store: Store) -> bool:
    with store.session() as session:
        editions = session.scalar(select(func.count()).select_from(Edition))
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
    return editions == deliveries == 0


def test_a_test_goes_to_the_editor_through_the_outbox_with_the_edits(
    newsroom: Path, store: Store
) -> None:
    config = loaded(newsroom, store)
    item = desk.next_edition(store, config, POLITICS, now=NOW).items[0]
    desk.edit(store, config, POLITICS, item.article_id, "", "An edited summary.", EDITOR, NOW)
    sent = desk.send_test(store, config, POLITICS, EDITOR, now=NOW)
    assert (sent.addresses, sent.backend, sent.at) == ((EDITOR,), "outbox", NOW)
    folder = outbox_folder(config, TESTS, POLITICS)
    assert sent.folder == str(folder) and folder.is_relative_to(config.outbox_dir / "tests")
    (path,) = folder.glob("*.eml")
    message = parse(path.read_bytes())
    assert message["Subject"] == sent.subject == "[Test] " + cut(item.title, SUBJECT_LIMIT)
    assert message["To"].addresses[0].addr_spec == EDITOR
    assert "An edited summary." in plain(message) and "\n-- \n" in plain(message)
    assert "Hello there" not in plain(message)  # greeted by first name or not at all
    assert nothing_recorded(store) and history(store, config, POLITICS) == []
    (entry,) = desk.log(store, POLITICS, pending=True)[:1]
    assert entry.action == "test send" and entry.at == NOW
    assert entry.detail == f"sent a test to {EDITOR} through outbox ({folder})"


def test_a_tests_links_are_signed_for_no_subscriber(
    newsroom: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "a-key-for-this-test")
    config = loaded(newsroom, store)
    desk.send_test(store, config, POLITICS, EDITOR, now=NOW)
    (path,) = outbox_folder(config, TESTS, POLITICS).glob("*.eml")
    message = parse(path.read_bytes())
    link = str(message["List-Unsubscribe"]).split("<")[1].split(">")[0]
    assert link.startswith("https://newsroom.example/digest/unsubscribe/")
    claim = TokenSigner("a-key-for-this-test").read(link.rsplit("/", 1)[1])
    assert (claim.subscriber_id, claim.list_name) == (0, POLITICS)


def test_a_test_goes_to_the_addresses_typed_in_at_most_as_many_as_allowed(
    newsroom: Path, store: Store
) -> None:
    config = loaded(newsroom, store)
    typed = [" A@Desk.example ", "b@desk.example", "a@desk.example", ""]
    sent = desk.send_test(store, config, POLITICS, EDITOR, typed, NOW)
    assert sent.addresses == ("a@desk.example", "b@desk.example")
    assert len(list(outbox_folder(config, TESTS, POLITICS).glob("*.eml"))) == 2
    with pytest.raises(desk.DeskInputError, match=r"at most 5 addresses \(\[desk\] test_recip"):
        desk.send_test(store, config, POLITICS, EDITOR, [f"r{n}@x.example" for n in range(6)])
    with pytest.raises(desk.DeskInputError, match="'nobody' is not an email address"):
        desk.send_test(store, config, POLITICS, EDITOR, ["nobody"])
    assert len(desk.log(store, POLITICS)) == 1 and nothing_recorded(store)


def test_a_test_goes_through_smtp_when_smtp_is_configured(
    newsroom: Path, store: Store, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    config = loaded(newsroom, store, "smtp", port)
    sent = desk.send_test(store, config, POLITICS, EDITOR, now=NOW)
    assert (sent.backend, sent.folder) == ("smtp", "")
    (raw,) = handler.received
    message = parse(raw)
    assert message["Subject"].startswith("[Test] ") and message["To"] == EDITOR
    assert not config.outbox_dir.exists() and nothing_recorded(store)


def test_a_test_goes_through_sendgrid_when_sendgrid_is_configured(
    newsroom: Path, store: Store, sendgrid: SendGridStandIn
) -> None:
    config = loaded(newsroom, store, "sendgrid")
    sent = desk.send_test(store, config, POLITICS, EDITOR, ["a@x.example", "b@x.example"], NOW)
    assert sent.backend == "sendgrid"
    (request,) = sendgrid.accepted
    assert sendgrid.recipients() == ["a@x.example", "b@x.example"]
    top = desk.next_edition(store, config, POLITICS, now=NOW).items[0].title
    assert request.body["subject"] == "[Test] " + cut(top, SUBJECT_LIMIT)
    assert request.body["custom_args"]["edition"] == "0"  # no edition: events count nowhere
    assert nothing_recorded(store)


def test_nothing_to_test_is_one_line(newsroom: Path, store: Store) -> None:
    config = load_config(newsroom)  # nothing ingested
    with pytest.raises(DigestError, match="nothing to test: politics-daily's next edition"):
        desk.send_test(store, config, POLITICS, EDITOR, now=NOW)
