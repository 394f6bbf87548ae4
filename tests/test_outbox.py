"""The outbox backend: atomic files, kept on resume, and leftovers of killed writers swept."""

from __future__ import annotations

import email
import email.policy
import os
import time
from pathlib import Path

from digest.deliver.message import Outgoing, Recipient
from digest.deliver.outbox import STALE_SECONDS, OutboxBackend, edition_folder, sweep_stale
from digest.render.email import Rendered
from subscribers.importer import normalise_email

OUTGOING = Outgoing(
    edition_id=3,
    segment="tech weekly",
    rendered=Rendered("Subject", "Preheader", "<p>Hello</p>", "Hello", ()),
    from_name="Desk",
    from_email="digest@news.example",
    reply_to="",
    list_id="<tech.news.example>",
)


def reader(number: int) -> Recipient:
    return Recipient(
        number,
        f"r{number}@example.org",
        "",
        "https://news.example/unsubscribe/T",
        "https://news.example/preferences/T",
        "mailto:unsubscribe@news.example",
    )


def leftover(folder: Path, name: str, age: float) -> Path:
    path = folder / f".tmp-{name}.tmp"
    path.write_bytes(b"half a message")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_batch_writes_one_parsable_file_each_and_a_resend_keeps_them(tmp_path: Path) -> None:
    backend = OutboxBackend(tmp_path)
    outcome = backend.send_batch(OUTGOING, [reader(1), reader(2)], batch=1)
    assert sorted(outcome.accepted) == [1, 2]
    folder = edition_folder(tmp_path, "tech weekly", 3)
    files = sorted(folder.glob("*.eml"))
    assert [f.name for f in files] == ["0000001-r1@example.org.eml", "0000002-r2@example.org.eml"]
    first = files[0].read_bytes()
    message = email.message_from_bytes(first, policy=email.policy.default)
    assert message["To"] == "r1@example.org" and message["Subject"] == "Subject"
    OutboxBackend(tmp_path).send_batch(OUTGOING, [reader(1)], batch=1)
    assert files[0].read_bytes() == first  # written once, never again


def test_stale_leftovers_are_swept_and_young_ones_left_to_their_writer(tmp_path: Path) -> None:
    folder = edition_folder(tmp_path, "tech weekly", 3)
    folder.mkdir(parents=True)
    old = leftover(folder, "killed", STALE_SECONDS + 60)
    young = leftover(folder, "writing", 5)
    OutboxBackend(tmp_path).send_batch(OUTGOING, [reader(1)], batch=1)
    assert not old.exists() and young.exists()
    assert sweep_stale(folder, time.time() + STALE_SECONDS + 10) == 1
    assert not young.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["0000001-r1@example.org.eml"]


def person(number: int, address: str, name: str = "") -> Recipient:
    return reader(number)._replace(email=address, name=name)


def test_an_internationalised_address_gets_an_smtputf8_message_and_the_others_ascii(
    tmp_path: Path,
) -> None:
    readers = [
        reader(1),
        person(2, "用户@example.com", "Zhang Wei 张伟"),
        person(3, "ada@bücher.example", "Ada"),
        reader(4),
    ]
    outcome = OutboxBackend(tmp_path).send_batch(OUTGOING, readers, batch=1)
    assert sorted(outcome.accepted) == [1, 2, 3, 4] and outcome.failed == {}
    files = {
        int(f.name[:7]): f.read_bytes()
        for f in edition_folder(tmp_path, "tech weekly", 3).glob("*.eml")
    }
    assert sorted(files) == [1, 2, 3, 4]

    # RFC 6532: the headers in UTF-8, the address as it is (an encoded word is not allowed
    # in an address), every line within RFC 5322's limit.
    raw = files[2].decode("utf-8")  # strict: valid UTF-8 throughout
    to_line = next(line for line in raw.splitlines() if line.startswith("To:"))
    assert to_line == "To: Zhang Wei 张伟 <用户@example.com>"
    assert all(len(line.encode()) <= 998 for line in raw.splitlines())
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "用户@example.com"
    assert message["To"].addresses[0].display_name == "Zhang Wei 张伟"
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "Hello"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Everyone else keeps a plain ASCII message; an internationalised domain after an
    # ASCII local part is written in its A-labels, which needs no SMTPUTF8.
    for number in (1, 3, 4):
        assert files[number].isascii(), number
    idn = email.message_from_bytes(files[3], policy=email.policy.default)
    assert idn["To"].addresses[0].addr_spec == "ada@xn--bcher-kva.example"


def test_a_message_that_cannot_be_built_fails_its_reader_alone(tmp_path: Path) -> None:
    # An address that never went through validation (an edited database, an old import).
    readers = [reader(1), person(2, "no-at-sign"), reader(3), person(4, "用户"), reader(5)]
    outcome = OutboxBackend(tmp_path).send_batch(OUTGOING, readers, batch=1)
    assert sorted(outcome.accepted) == [1, 3, 5]
    assert sorted(outcome.failed) == [2, 4]
    for reason in outcome.failed.values():
        assert reason.startswith("cannot build the message for this address:")
    folder = edition_folder(tmp_path, "tech weekly", 3)
    assert sorted(p.name[:7] for p in folder.glob("*.eml")) == ["0000001", "0000003", "0000005"]


def test_the_longest_valid_address_still_makes_a_file_name(tmp_path: Path) -> None:
    local = "x" * 64
    domain = ".".join(["d" * 60, "d" * 60, "d" * 59, "example"])
    address = f"{local}@{domain}"
    assert len(address) == 254 and normalise_email(address) == address  # valid, and the longest
    outcome = OutboxBackend(tmp_path).send_batch(OUTGOING, [person(1, address)], batch=1)
    assert list(outcome.accepted) == [1]
    (written,) = edition_folder(tmp_path, "tech weekly", 3).glob("*.eml")
    assert len(written.name.encode()) <= 255
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == address
