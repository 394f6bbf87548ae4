"""The send ledger, function by function: recording, claiming, suppression, stale claims, status.

Each test builds its audience with bulk inserts and its edition as a row, so that only
the ledger is under test; delivery goes to a recording backend (a fake at the edge).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import DESK_SENDER, add_edition, deliver
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from digest.cli import main
from digest.config import load_config
from digest.deliver import ledger
from digest.deliver.message import Outgoing, Recipient
from digest.deliver.progress import Progress
from digest.deliver.protocol import BatchOutcome
from digest.deliver.recipients import record_recipients
from digest.store.database import Store
from digest.store.models import (
    Batch,
    BatchStatus,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
)
from subscribers.audience import Rule
from subscribers.models import Membership, Status, Subscriber

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
LIST = "news"
LEASE = timedelta(seconds=900)


def add_subscribers(
    store: Store, count: int, *, lists: Sequence[str] = (LIST,), status: Status = Status.active
) -> list[int]:
    """``count`` subscribers in one INSERT each for people and memberships; their ids."""
    with store.session() as session:
        first = session.scalar(select(Subscriber.id).order_by(Subscriber.id.desc()).limit(1)) or 0
        rows = [
            {
                "id": first + n,
                "email": f"reader{first + n}@readers.example",
                "name": f"Reader {first + n}",
                "status": status,
                "signed_up_at": NOW,
                "confirmed_at": NOW,
            }
            for n in range(1, count + 1)
        ]
        session.execute(insert(Subscriber), rows)
        members = [{"subscriber_id": r["id"], "list_name": name} for r in rows for name in lists]
        if members:
            session.execute(insert(Membership), members)
    return [int(r["id"]) for r in rows]


def make_edition(store: Store, segment: str = LIST) -> int:
    with store.session() as session:
        return add_edition(
            session,
            segment,
            f"at {NOW.isoformat()}",
            EditionStatus.sending,
            NOW,
            backend="sendgrid",
            subject="Your digest",
            html="<p>Hello %%name_html%%, <a href='%%unsubscribe_url%%'>unsubscribe</a></p>",
            text="Hello %%name%%, unsubscribe: %%unsubscribe_url%%",
        ).id


def record(store: Store, edition_id: int, batch_size: int) -> int:
    with store.session() as session:
        return record_recipients(session, edition_id, Rule(lists=(LIST,)), batch_size)


def batches(store: Store, edition_id: int) -> dict[int, Batch]:
    with store.session() as session:
        query = select(Batch).where(Batch.edition_id == edition_id)
        return {b.number: b for b in session.scalars(query)}


def rows(store: Store, edition_id: int) -> list[Delivery]:
    with store.session() as session:
        query = select(Delivery).where(Delivery.edition_id == edition_id).order_by(Delivery.id)
        return list(session.scalars(query))


def claim_as(store: Store, edition_id: int, worker: str, at: datetime = NOW) -> int | None:
    with store.session() as session:
        return ledger.claim(session, edition_id, worker, at)


def dead_pid() -> int:
    """The pid of a process of this host that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def resolve(
    store: Store,
    edition_id: int,
    *,
    policy: str = "resend",
    idempotent: bool = False,
    at: datetime = NOW,
) -> int:
    with store.session() as session:
        return ledger.resolve_stale(
            session, edition_id, at, policy=policy, idempotent=idempotent, lease=LEASE
        )


def write_config(folder: Path, database_url: str, batch_size: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "digest.toml"
    path.write_text(
        f"""
[digest]
database_url = {json.dumps(database_url)}
backend = "sendgrid"
batch_size = {batch_size}
concurrency = 2

{DESK_SENDER}
[segments.{LIST}]
lists = ["{LIST}"]
""",
        encoding="utf-8",
    )
    return path


@dataclass
class RecordingBackend:
    """Accepts every batch and remembers who was in it."""

    name: str = "recording"
    idempotent: bool = False
    sent: list[str] = field(default_factory=list)

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        self.sent.extend(r.email for r in recipients)
        return BatchOutcome(accepted={r.delivery_id: f"msg-{batch}" for r in recipients})

    def close(self) -> None:
        return None


def test_2500_subscribers_make_batches_of_1000_1000_and_500_in_id_order(store: Store) -> None:
    ids = add_subscribers(store, 1200)
    add_subscribers(store, 1, status=Status.unsubscribed)
    ids += add_subscribers(store, 800)
    add_subscribers(store, 1, status=Status.bounced)
    add_subscribers(store, 1, lists=("sport",))
    ids += add_subscribers(store, 500)
    edition_id = make_edition(store)

    assert record(store, edition_id, 1000) == 2500

    made = batches(store, edition_id)
    assert [(n, b.size, b.status) for n, b in sorted(made.items())] == [
        (0, 1000, BatchStatus.pending),
        (1, 1000, BatchStatus.pending),
        (2, 500, BatchStatus.pending),
    ]
    assert all(b.attempts == 0 and not b.in_doubt and b.claimed_by == "" for b in made.values())
    recorded = sorted(rows(store, edition_id), key=lambda d: d.subscriber_id)
    assert [d.subscriber_id for d in recorded] == ids  # the suppressed and the other list left out
    assert [d.batch for d in recorded] == [i // 1000 for i in range(2500)]
    assert {d.status for d in recorded} == {DeliveryStatus.pending}
    assert all(d.email == f"reader{d.subscriber_id}@readers.example" for d in recorded)
    # One row per edition and subscriber: recording twice is refused, not doubled.
    with pytest.raises(IntegrityError):
        record(store, edition_id, 1000)
    assert len(rows(store, edition_id)) == 2500


def test_two_threads_claiming_at_once_never_get_the_same_batch(store: Store) -> None:
    add_subscribers(store, 400)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    start = threading.Barrier(2)
    taken: dict[str, list[int]] = {"w1": [], "w2": []}

    def claim_all(worker: str) -> None:
        start.wait()
        while (number := claim_as(store, edition_id, worker)) is not None:
            taken[worker].append(number)

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    first, second = taken["w1"], taken["w2"]
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(40))
    made = batches(store, edition_id)
    assert {b.status for b in made.values()} == {BatchStatus.sending}
    assert all(b.attempts == 1 for b in made.values())
    for worker, numbers in taken.items():
        assert all(made[n].claimed_by == worker for n in numbers)


def test_a_subscriber_suppressed_after_recording_is_not_sent(
    store: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    ids = add_subscribers(store, 5)
    edition_id = make_edition(store)
    record(store, edition_id, 2)
    with store.session() as session:
        session.execute(
            update(Subscriber).where(Subscriber.id == ids[1]).values(status=Status.unsubscribed)
        )
        session.execute(
            update(Subscriber).where(Subscriber.id == ids[4]).values(status=Status.bounced)
        )
    backend = RecordingBackend()
    config = load_config(write_config(tmp_path, database_url, batch_size=2))

    counts = deliver(store, config, lambda: backend, edition_id)

    sent = {f"reader{i}@readers.example" for i in (ids[0], ids[2], ids[3])}
    assert sorted(backend.sent) == sorted(sent)
    assert counts == ledger.Counts(recipients=5, sent=3, failed=2, pending=0, in_doubt=0)
    by_id = {d.subscriber_id: d for d in rows(store, edition_id)}
    assert by_id[ids[1]].status == DeliveryStatus.failed
    assert by_id[ids[1]].error == "suppressed: unsubscribed"
    assert by_id[ids[4]].error == "suppressed: bounced"
    assert {by_id[i].status for i in (ids[0], ids[2], ids[3])} == {DeliveryStatus.sent}
    assert {b.status for b in batches(store, edition_id).values()} == {BatchStatus.sent}
    with store.session() as session:
        assert session.get_one(Edition, edition_id).status == EditionStatus.sent


def test_a_batch_left_sending_by_a_dead_process_is_in_doubt_and_resent(store: Store) -> None:
    add_subscribers(store, 30)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    assert claim_as(store, edition_id, f"{ledger.HOST}:{dead_pid()}:1") == 0
    assert claim_as(store, edition_id, ledger.worker_name()) == 1  # alive: this process

    assert resolve(store, edition_id) == 1

    made = batches(store, edition_id)
    assert (made[0].status, made[0].in_doubt, made[0].doubt_resolution) == (
        BatchStatus.pending,
        True,
        "resent",
    )
    assert made[0].claimed_by == ""
    assert (made[1].status, made[1].in_doubt) == (BatchStatus.sending, False)
    assert (made[2].status, made[2].in_doubt) == (BatchStatus.pending, False)
    assert claim_as(store, edition_id, "resumer") == 0  # resent first
    assert batches(store, edition_id)[0].attempts == 2


def test_with_policy_skip_a_doubtful_batch_is_taken_as_sent_and_flagged(store: Store) -> None:
    add_subscribers(store, 30)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    claim_as(store, edition_id, f"{ledger.HOST}:{dead_pid()}:1")

    assert resolve(store, edition_id, policy="skip") == 1

    made = batches(store, edition_id)[0]
    assert (made.status, made.in_doubt, made.doubt_resolution) == (
        BatchStatus.sent,
        True,
        "skipped",
    )
    first = [d for d in rows(store, edition_id) if d.batch == 0]
    assert {(d.status, d.message_id) for d in first} == {(DeliveryStatus.sent, "in doubt")}
    with store.session() as session:
        assert ledger.counts(session, edition_id) == ledger.Counts(30, 10, 0, 20, 1)


def test_an_outbox_batch_left_sending_simply_goes_back_to_pending(store: Store) -> None:
    add_subscribers(store, 30)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    claim_as(store, edition_id, f"{ledger.HOST}:{dead_pid()}:1")

    assert resolve(store, edition_id, idempotent=True) == 0

    made = batches(store, edition_id)[0]
    assert (made.status, made.in_doubt, made.doubt_resolution) == (BatchStatus.pending, False, "")
    assert made.claimed_by == ""


def test_another_hosts_claim_is_left_alone_until_it_is_older_than_claim_timeout(
    store: Store,
) -> None:
    add_subscribers(store, 30)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    claim_as(store, edition_id, "elsewhere.example:4242:7", at=NOW - timedelta(seconds=60))
    claim_as(store, edition_id, "elsewhere.example:4243:7", at=NOW - LEASE - timedelta(seconds=1))

    assert resolve(store, edition_id) == 1

    made = batches(store, edition_id)
    assert (made[0].status, made[0].in_doubt) == (BatchStatus.sending, False)
    assert made[0].claimed_by == "elsewhere.example:4242:7"
    assert (made[1].status, made[1].in_doubt) == (BatchStatus.pending, True)
    # Later, the young claim has aged past the timeout too.
    assert resolve(store, edition_id, at=NOW + LEASE) == 1
    assert batches(store, edition_id)[0].in_doubt


def test_status_json_reports_counts_the_failed_batchs_error_and_the_doubtful_batches(
    store: Store, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_subscribers(store, 25)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    assert claim_as(store, edition_id, "w") == 0
    with store.session() as session:
        first = session.scalars(
            select(Delivery.id).where(Delivery.edition_id == edition_id, Delivery.batch == 0)
        ).all()
        outcome = BatchOutcome(accepted={i: "sg-0" for i in first})
        ledger.record_outcome(session, edition_id, 0, outcome, NOW)
    assert claim_as(store, edition_id, "w") == 1
    refusal = "SendGrid answered 400: Does not contain a valid address. (field from.email)"
    with store.session() as session:
        ledger.release(session, edition_id, 1, refusal, permanent=True)
    assert claim_as(store, edition_id, f"{ledger.HOST}:{dead_pid()}:1") == 2
    resolve(store, edition_id)
    config = write_config(tmp_path, database_url)

    main(["status", "--json", "--config", str(config)])
    (line,) = capsys.readouterr().out.splitlines()
    report = json.loads(line)

    assert report["edition"] == edition_id
    assert (report["recipients"], report["sent"], report["failed"], report["pending"]) == (
        25,
        10,
        10,
        5,
    )
    assert report["in_doubt"] == 5
    (failed,) = report["failed_batches"]
    assert (failed["number"], failed["size"], failed["status"]) == (1, 10, "failed")
    assert failed["error"] == refusal
    (doubtful,) = report["doubtful_batches"]
    assert (doubtful["number"], doubtful["size"], doubtful["resolution"]) == (2, 5, "resent")
    assert report["status"] == "sending"

    main(["status", "--config", str(config), "--edition", str(edition_id)])
    text = capsys.readouterr().out
    assert "25 recipients, 10 sent, 10 failed, 5 pending, 5 in doubt" in text
    assert f"failed batch 1 (10): {refusal}" in text
    assert "in doubt batch 2 (5)" in text

    with pytest.raises(SystemExit) as stopped:
        main(["status", "--config", str(config), "--edition", str(edition_id + 1)])
    assert stopped.value.code == 1
    assert f"no edition {edition_id + 1}" in capsys.readouterr().err


def test_a_partial_outcome_keeps_the_rest_pending_and_the_batch_open(store: Store) -> None:
    add_subscribers(store, 3)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    assert claim_as(store, edition_id, "w") == 0
    first, second, third = (d.id for d in rows(store, edition_id))

    with store.session() as session:  # one went (an SMTP server that hung up after it)
        ledger.record_outcome(session, edition_id, 0, BatchOutcome(accepted={first: "m1"}), NOW)

    state = {d.id: (d.status, d.message_id) for d in rows(store, edition_id)}
    assert state == {
        first: (DeliveryStatus.sent, "m1"),
        second: (DeliveryStatus.pending, ""),
        third: (DeliveryStatus.pending, ""),
    }
    made = batches(store, edition_id)[0]
    assert (made.status, made.claimed_by) == (BatchStatus.pending, "")

    assert claim_as(store, edition_id, "w") == 0
    outcome = BatchOutcome(accepted={second: "m2"}, failed={third: "550 no such user"})
    with store.session() as session:
        ledger.record_outcome(session, edition_id, 0, outcome, NOW)
    state = {d.id: (d.status, d.message_id or d.error) for d in rows(store, edition_id)}
    assert state[second] == (DeliveryStatus.sent, "m2")
    assert state[third] == (DeliveryStatus.failed, "550 no such user")
    assert batches(store, edition_id)[0].status == BatchStatus.sent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_a_progress_bar_is_drawn_on_a_terminal_only(
    store: Store,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
) -> None:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    add_subscribers(store, 30)
    edition_id = make_edition(store)
    record(store, edition_id, 10)
    config = load_config(write_config(tmp_path, database_url))
    backend = RecordingBackend()
    stream = Terminal() if terminal else io.StringIO()

    deliver(store, config, lambda: backend, edition_id, progress=Progress("news", stream))

    assert len(backend.sent) == 30
    if terminal:
        assert "news" in stream.getvalue() and "30/30" in stream.getvalue()
    else:
        assert stream.getvalue() == ""


def test_each_batch_records_the_backends_that_accepted_it(
    store: Store, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_subscribers(store, 3)
    edition_id = make_edition(store)  # started on sendgrid
    record(store, edition_id, 2)
    first, second, third = (d.id for d in rows(store, edition_id))

    # Batch 0: SMTP took one reader before its server hung up; the outbox took the other.
    assert claim_as(store, edition_id, "w") == 0
    with store.session() as session:
        outcome = BatchOutcome(accepted={first: "m1"})
        ledger.record_outcome(session, edition_id, 0, outcome, NOW, "smtp")
    assert claim_as(store, edition_id, "w") == 0
    with store.session() as session:
        outcome = BatchOutcome(accepted={second: "m2"})
        ledger.record_outcome(session, edition_id, 0, outcome, NOW, "outbox")
    # Batch 1: refused for its only reader, so no backend accepted it.
    assert claim_as(store, edition_id, "w") == 1
    with store.session() as session:
        outcome = BatchOutcome(failed={third: "550 no such user"})
        ledger.record_outcome(session, edition_id, 1, outcome, NOW, "smtp")

    made = batches(store, edition_id)
    assert (made[0].backend, made[1].backend) == ("smtp,outbox", "")
    config = write_config(tmp_path, database_url)
    main(["status", "--json", "--config", str(config)])
    report = json.loads(capsys.readouterr().out)
    assert report["backends"] == {"smtp": 1, "outbox": 1}
    assert report["failure_reasons"] == {"550 no such user": 1}
    main(["status", "--config", str(config)])
    first_line, *more = capsys.readouterr().out.splitlines()
    assert " via smtp (1 batch), outbox (1 batch): 3 recipients, 2 sent, 1 failed" in first_line
    assert more == ["  1 failed: 550 no such user"]
