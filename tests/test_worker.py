"""`digest worker` and ``[digest] send = "workers"``: runs record editions, workers send them.

Workers run as real processes (``python -m digest worker``), as they would on several
machines against one store; the SendGrid stand-in runs in this test process, and what it
accepted, not the ledger, is what readers received.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import ROOT, write_desk
from sendgrid_standin import SendGridStandIn
from sqlalchemy import insert, select, update

from digest.config import load_config
from digest.deliver import ledger
from digest.deliver.notify import Listener
from digest.intake.ingest import ingest_all
from digest.run.subscribers_file import merge_subscribers_file
from digest.store.database import open_store
from digest.store.models import Batch, BatchStatus, Edition, EditionStatus
from subscribers.models import Membership, Status, Subscriber

SEGMENT = "news"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \S")
ENV = {"SENDGRID_API_KEY": "SG.test-key", "DIGEST_SECRET_KEY": "test-signing-key"}


def environment(**more: str) -> dict[str, str]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        **ENV,
        **more,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
    }


def digest(config: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """A digest command in a process of its own: (exit code, stdout and stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "digest", *argv, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env or environment(),
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def newsroom(folder: Path, database_url: str, readers: int, digest_settings: str) -> Path:
    """A desk of ``readers`` readers of SEGMENT, merged and ingested: ready to send."""
    people = {f"reader{n:05d}@readers.example": f"Reader {n}" for n in range(readers)}
    config = write_desk(
        folder,
        people,
        database_url,
        segment=SEGMENT,
        digest=digest_settings,
        more="\n[sendgrid]\ntimeout = 30\n",
    )
    loaded = load_config(config)
    now = datetime.now(UTC)
    with open_store(loaded.database_url) as store:
        merge_subscribers_file(store, loaded, now)
        (report,) = ingest_all(store, loaded, now)
        assert not report.error, report.line
    return config


def add_readers(database_url: str, first: int, count: int) -> list[str]:
    """``count`` more active readers of SEGMENT, stored at once (a CSV merge of thousands
    would be most of the test's time)."""
    now = datetime.now(UTC)
    addresses = [f"reader{n:05d}@readers.example" for n in range(first, first + count)]
    with open_store(database_url) as store, store.session() as session:
        ids = session.scalars(
            insert(Subscriber).returning(Subscriber.id),
            [
                {
                    "email": address,
                    "name": f"Reader {n}",
                    "status": Status.active,
                    "signed_up_at": now,
                    "confirmed_at": now,
                }
                for n, address in enumerate(addresses, start=first)
            ],
        ).all()
        session.execute(
            insert(Membership), [{"subscriber_id": i, "list_name": SEGMENT} for i in ids]
        )
    return addresses


class Worker:
    """A `digest worker` process, its output in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str]) -> None:
        self.log = log
        self._handle = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digest", "worker", "--config", str(config)],
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            env=env,
        )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._handle.close()


@contextmanager
def workers(count: int, config: Path, env: dict[str, str]) -> Iterator[list[Worker]]:
    with ExitStack() as stack:
        started = []
        for n in range(count):
            worker = Worker(config, config.parent / f"worker{n}.log", env)
            stack.callback(worker.close)
            started.append(worker)
        yield started


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.02)


def edition_status(database_url: str) -> EditionStatus | None:
    with open_store(database_url) as store, store.session() as session:
        return session.scalar(select(Edition.status).where(Edition.segment == SEGMENT))


def assert_stamped(output: str) -> None:
    """Every line the worker printed starts with its local time."""
    lines = output.splitlines()
    assert lines, "the worker printed nothing"
    for line in lines:
        assert STAMP.match(line), line


def test_with_send_workers_a_run_records_and_a_worker_sends_then_stops_on_sigterm(
    tmp_path: Path, database_url: str
) -> None:
    config = newsroom(
        tmp_path / "desk", database_url, 5, 'backend = "outbox"\nsend = "workers"\nbatch_size = 2'
    )
    outbox = load_config(config).outbox_dir / SEGMENT

    code, output = digest(config, "send", "--segment", SEGMENT, "--no-ingest")
    assert code == 0, output
    assert "recorded; 5 recipients queued for digest worker" in output
    assert edition_status(database_url) == EditionStatus.sending
    assert not list(outbox.rglob("*.eml"))  # the run sent nothing itself

    with workers(1, config, environment()) as (worker,):
        until(lambda: edition_status(database_url) == EditionStatus.sent, 30, "the send")
        assert worker.stop() == 0, worker.output
        output = worker.output
    assert len(list(outbox.rglob("*.eml"))) == 5
    assert_stamped(output)
    first, *rest, last = output.splitlines()
    waiting = "PostgreSQL NOTIFY" if database_url.startswith("postgresql") else "polling every"
    assert "started: 4 batches in flight" in first and waiting in first, first
    assert any(f"{SEGMENT} sent: 5 recipients, 5 sent, 0 failed" in line for line in rest), output
    assert last.endswith("stopped; this worker handed over 5 recipients"), output

    code, output = digest(config, "send", "--segment", SEGMENT, "--no-ingest")  # nothing new
    assert code == 0, output
    assert "no new articles since" in output


def test_a_worker_sends_a_wave_when_its_time_comes_and_not_before(
    tmp_path: Path, database_url: str
) -> None:
    config = newsroom(
        tmp_path / "desk", database_url, 4, 'backend = "outbox"\nsend = "workers"\nbatch_size = 2'
    )
    outbox = load_config(config).outbox_dir / SEGMENT
    code, output = digest(config, "send", "--segment", SEGMENT, "--no-ingest")
    assert code == 0, output
    release = datetime.now(UTC) + timedelta(seconds=8)
    with open_store(database_url) as store, store.session() as session:
        session.execute(update(Batch).where(Batch.number == 1).values(release_at=release))

    with workers(1, config, environment()) as (worker,):
        until(lambda: len(list(outbox.rglob("*.eml"))) == 2, 30, "the first wave")
        assert datetime.now(UTC) < release, "too slow to tell: the second wave is due"
        assert edition_status(database_url) == EditionStatus.sending
        # Nothing wakes the worker but the wave's time (its fallback poll is a minute).
        until(lambda: edition_status(database_url) == EditionStatus.sent, 30, "the second wave")
        assert datetime.now(UTC) >= release
        assert worker.stop() == 0, worker.output
    assert len(list(outbox.rglob("*.eml"))) == 4


def test_a_worker_with_nothing_to_do_exits_0_on_sigterm(tmp_path: Path) -> None:
    config = newsroom(tmp_path / "desk", "", 1, 'backend = "outbox"\nsend = "workers"')
    with workers(1, config, environment()) as (worker,):
        until(lambda: "started" in worker.output, 30, "the worker to start")
        assert worker.stop() == 0, worker.output
        output = worker.output
    assert_stamped(output)
    assert output.splitlines()[-1].endswith("stopped; this worker handed over 0 recipients")


def test_sigterm_mid_batch_finishes_and_records_the_batch_in_hand_then_exits_0(
    tmp_path: Path, database_url: str
) -> None:
    settings = 'backend = "sendgrid"\nsend = "workers"\nconcurrency = 1\nbatch_size = 2'
    config = newsroom(tmp_path / "desk", database_url, 8, settings)
    with SendGridStandIn(latency=(0.6, 0.6)) as standin:
        env = environment(SENDGRID_API_HOST=standin.url)
        code, output = digest(config, "send", "--segment", SEGMENT, "--no-ingest", env=env)
        assert code == 0, output
        with workers(1, config, env) as (worker,):
            pid = worker.process.pid
            until(lambda: bool(held_by(database_url, pid)), 30, "the worker to claim a batch")
            (held,) = held_by(database_url, pid)
            assert worker.stop() == 0, worker.output
            output = worker.output
    assert "asked to stop: the batches in hand were finished and recorded" in output, output
    assert output.splitlines()[-1].endswith(f"handed over {2 * len(standin.accepted)} recipients")
    with open_store(database_url) as store, store.session() as session:
        batches = {n: status for n, status in session.execute(select(Batch.number, Batch.status))}
        doubtful = session.scalars(select(Batch.number).where(Batch.in_doubt)).all()
    assert batches[held] == BatchStatus.sent and not doubtful, batches
    assert BatchStatus.pending in batches.values()  # the rest waits for the next worker
    assert edition_status(database_url) == EditionStatus.sending


def test_send_must_be_self_or_workers(tmp_path: Path) -> None:
    config = write_desk(tmp_path / "desk", {}, digest='send = "cron"')
    code, output = digest(config, "worker")
    assert code == 1
    assert output.strip().endswith("[digest] send: 'cron' is not one of self, workers"), output


@pytest.mark.postgres
def test_a_batch_back_to_pending_wakes_listening_workers_when_its_transaction_commits(
    postgres_url: str,
) -> None:
    never = lambda: False  # noqa: E731
    with open_store(postgres_url) as store, Listener(store.engine) as listener:
        with store.session() as session:  # failed for good: nothing for a worker to do
            ledger.release(session, 1, 0, "refused", permanent=True)
        assert not listener.wait(0.3, never)
        with store.session() as session:
            ledger.release(session, 1, 0, "timed out", permanent=False)
            assert not listener.wait(0.3, never)  # not before the commit
        assert listener.wait(5, never)
        assert not listener.wait(0.3, never)  # one wake-up answered it


# --- three workers on PostgreSQL, one killed mid-batch ---

READERS = 30_000


def received(standin: SendGridStandIn) -> list[tuple[str, int]]:
    """(address, ledger batch) of every accepted personalization, repeats included."""
    return [
        (to["email"], int(request.body["custom_args"]["batch"]))
        for request in standin.accepted
        for personalization in request.body["personalizations"]
        for to in personalization["to"]
    ]


def held_by(database_url: str, pid: int) -> list[int]:
    """The batches the worker process ``pid`` holds in ``sending``."""
    with open_store(database_url) as store, store.session() as session:
        rows = session.execute(
            select(Batch.number, Batch.claimed_by).where(Batch.status == BatchStatus.sending)
        ).all()
    return [number for number, worker in rows if worker.split(":")[1:2] == [str(pid)]]


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_share_an_edition_and_a_kill_9_mid_batch_repeats_only_batches_in_doubt(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = 'backend = "sendgrid"\nsend = "workers"\nconcurrency = 2\nbatch_size = 1000'
    config = newsroom(tmp_path / "desk", postgres_url, 1, settings)
    readers = ["reader00000@readers.example", *add_readers(postgres_url, 1, READERS - 1)]

    with SendGridStandIn(latency=(0.3, 0.5)) as standin:
        env = environment(SENDGRID_API_HOST=standin.url)
        with workers(3, config, env) as (victim, *survivors):
            for worker in (victim, *survivors):  # all three wait on LISTEN before the run
                until(lambda w=worker: "started" in w.output, 60, "the workers to start")

            code, output = digest(config, "send", "--segment", SEGMENT, "--no-ingest", env=env)
            assert code == 0, output
            assert f"recorded; {READERS:,} recipients queued for digest worker" in output

            pid = victim.process.pid
            until(lambda: bool(held_by(postgres_url, pid)), 30, "the victim to claim a batch")
            time.sleep(0.15)  # its request is at the stand-in, which answers in 0.3-0.5 s
            victim.process.kill()
            victim.process.wait()

            until(lambda: edition_status(postgres_url) == EditionStatus.sent, 60, "the send")
            assert [w.stop() for w in survivors] == [0, 0], [w.output for w in survivors]
            outputs = [w.output for w in survivors]

        code, output = digest(config, "status", "--json", env=env)
    assert code == 0, output
    (report,) = [json.loads(line) for line in output.splitlines()]

    copies = Counter(address for address, _ in received(standin))
    assert set(copies) == set(readers), f"missed {len(set(readers) - set(copies))} readers"
    doubtful = {b["number"] for b in report["doubtful_batches"]}
    assert doubtful, "the killed worker held a batch, which must be reported in doubt"
    for address, batch in received(standin):
        if copies[address] > 1:
            assert batch in doubtful, f"{address} got {copies[address]} copies from batch {batch}"
    assert (report["status"], report["sent"], report["pending"], report["failed"]) == (
        "sent",
        READERS,
        0,
        0,
    )
    for output in outputs:
        assert_stamped(output)
        assert "Traceback" not in output, output
        assert output.splitlines()[-1].split(" ", 1)[1].startswith("stopped;"), output
    assert any("in doubt" in output for output in outputs), outputs
    took_part = [w for w in outputs if f"{SEGMENT} sent: {READERS} recipients" in w]
    assert took_part, outputs
