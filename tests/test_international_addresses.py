"""Internationalised (EAI) addresses through the main job: imported normalised, each sent
an SMTPUTF8-style message by the outbox, and nobody else held up by them."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from helpers import cli
from sqlalchemy import select

from digest.config import load_config
from digest.store.database import open_store
from digest.store.models import Delivery, DeliveryStatus, Edition, EditionStatus
from subscribers.importer.addresses import ascii_address
from subscribers.models import Subscriber

SEGMENT = "politics-daily"
# As a list might spell them: upper-case domains, a decomposed é (e + U+0301).
ROWS = {
    "用户@EXAMPLE.com": "用户@example.com",
    "E\u0301va@BÜCHER.example": "\u00e9va@bücher.example",
    "ada@Bücher.example": "ada@bücher.example",
}


def test_the_main_job_sends_internationalised_addresses_and_everyone_else(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = newsroom.parent
    with (folder / "subscribers.csv").open("a", encoding="utf-8") as f:
        for address in ROWS:
            f.write(f"{address},Zhang Wei 张伟,{SEGMENT},Asia/Shanghai,zh-CN,politics\n")

    code, output = cli(capsys, "run", "--config", str(newsroom))

    assert code == 0, output
    config = load_config(newsroom)
    with open_store(config.database_url) as store, store.session() as session:
        stored = set(session.scalars(select(Subscriber.email)))
        assert set(ROWS.values()) <= stored  # normalised: NFC, lower case, Unicode domain
        assert set(session.scalars(select(Delivery.status))) == {DeliveryStatus.sent}
        assert set(session.scalars(select(Edition.status))) == {EditionStatus.sent}
        readers = set(
            session.scalars(select(Delivery.email).join(Edition).where(Edition.segment == SEGMENT))
        )
    assert set(ROWS.values()) <= readers
    outbox = folder / "outbox" / SEGMENT
    messages: dict[str, tuple[bytes, str]] = {}
    for path in outbox.rglob("*.eml"):
        raw = path.read_bytes()
        text = raw.decode("utf-8")  # strict: every file is valid UTF-8 (most are ASCII)
        message = email.message_from_string(text, policy=email.policy.default)
        messages[message["To"].addresses[0].addr_spec] = (raw, text)
    # Every reader of the segment got one message; an internationalised domain after an
    # ASCII local part is written in A-labels (ada@xn--bcher-kva.example), in ASCII mail.
    assert sorted(messages) == sorted(ascii_address(a) or a for a in readers)
    assert "用户@example.com" in messages and "ada@xn--bcher-kva.example" in messages
    for address, (raw, text) in messages.items():
        if address.isascii():
            assert raw.isascii(), address
        else:
            (to_line,) = [line for line in text.splitlines() if line.startswith("To:")]
            assert to_line == f"To: Zhang Wei 张伟 <{address}>"  # as it is, no encoded word

    code, shown = cli(capsys, "status", "--json", "--config", str(newsroom))
    assert code == 0, shown
    reports = [json.loads(line) for line in shown.splitlines()]
    assert all(r["failed"] == 0 and r["pending"] == 0 for r in reports)
    (politics,) = [r for r in reports if r["segment"] == SEGMENT]
    assert politics["sent"] == len(messages)


def test_ascii_form_of_an_address() -> None:
    assert ascii_address("ada@example.org") == "ada@example.org"
    assert ascii_address("ada@bücher.example") == "ada@xn--bcher-kva.example"
    assert ascii_address("用户@example.com") is None  # only SMTPUTF8 carries it
    assert ascii_address("not an address ü") is None
