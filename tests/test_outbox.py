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
