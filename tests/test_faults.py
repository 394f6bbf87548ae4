"""Delivery under faults: kill -9 mid-send, a flaky or slow provider, two senders at once.

Senders run as real processes and are killed with SIGKILL. They are forked from a server
process that has already imported Digest (multiprocessing's forkserver), so a trial costs
the send itself rather than a second of imports; each child still opens its own store and
HTTP clients, and has its own pid. The SendGrid stand-in runs in this test process and
records every request it accepted: that record, not the ledger, is what readers received.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import multiprocessing
import os
import random
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, write_desk
from sendgrid_standin import FaultPlan, SendGridStandIn
from sqlalchemy import select, update

from digest.cli import main
from digest.config import load_config
from digest.deliver.settings import DeliverySettings
from digest.deliver.workers import SendWorkers
from digest.intake.ingest import ingest_all
from digest.render.placeholders import Placeholders
from digest.run import segments as run_segments_module
from digest.run.sending import send_workers
from digest.run.subscribers_file import merge_subscribers_file
from digest.store.database import Store, open_store
from digest.store.models import Edition, EditionStatus
from subscribers.models import Subscriber

SEGMENT = "news"
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["digest.cli", __name__])
ENV = {"SENDGRID_API_KEY": "SG.test-key", "DIGEST_SECRET_KEY": "test-signing-key"}


# --- a small newsroom: one feed of two articles, N readers, one segment ---


def people(count: int) -> list[str]:
    return [f"reader{n:03d}@readers.example" for n in range(count)]


def write_newsroom(
    folder: Path,
    readers: Sequence[str],
    *,
    database_url: str = "",
    digest: str = "",
    sendgrid: str = "",
) -> Path:
    """Feed, subscribers and config in ``folder``; ``digest`` and ``sendgrid`` add settings."""
    people = {address: f"Reader {i}" for i, address in enumerate(readers)}
    tables = f"\n[sendgrid]\n{sendgrid}"
    return write_desk(folder, people, database_url, segment=SEGMENT, digest=digest, more=tables)


def prepare(config_path: Path) -> None:
    """Merge the subscribers and ingest the feed, so that senders need neither."""
    config = load_config(config_path)
    now = datetime.now(UTC)
    with open_store(config.database_url) as store:
        merge_subscribers_file(store, config, now)
        (report,) = ingest_all(store, config, now)
        assert not report.error, report.line


# --- digest commands in their own processes ---


def _digest_child(argv: list[str], env: dict[str, str], log: str) -> None:
    """The body of a forked sender: its own environment, its output to ``log``."""
    os.environ.update(env)
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.close(handle)
    main(argv)


def start(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> BaseProcess:
    process = FORKS.Process(
        target=_digest_child, args=(list(argv), {**ENV, **(env or {})}, str(log))
    )
    process.start()
    return process


def finish(process: BaseProcess, timeout: float = 60.0) -> int:
    process.join(timeout)
    if process.is_alive():
        os.kill(process.pid or 0, signal.SIGKILL)
        process.join()
        raise AssertionError(f"digest process did not finish within {timeout} s")
    code = process.exitcode
    process.close()
    assert code is not None
    return code


def run(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    return finish(start(argv, log, env))


def status(config: Path) -> list[dict[str, Any]]:
    """`digest status --json`, run as its own process."""
    log = config.parent / "status.json"
    log.unlink(missing_ok=True)
    assert run(["status", "--json", "--config", str(config)], log) == 0, log.read_text()
    return [json.loads(line) for line in log.read_text().splitlines()]


def editions(config: Path) -> list[Edition]:
    with open_store(load_config(config).database_url) as store, store.session() as session:
        return list(session.scalars(select(Edition)))


def send_argv(config: Path, backend: str, slot: str = "trial") -> list[str]:
    return [
        "send",
        "--segment",
        SEGMENT,
        "--backend",
        backend,
        "--no-ingest",
        "--slot",
        slot,
        "--config",
        str(config),
    ]


# --- what the stand-in received ---


def received(standin: SendGridStandIn) -> list[tuple[str, int]]:
    """(address, ledger batch) of every accepted personalization, repeats included."""
    return [
        (to["email"], int(request.body["custom_args"]["batch"]))
        for request in standin.accepted
        for personalization in request.body["personalizations"]
        for to in personalization["to"]
    ]


def assert_once_unless_in_doubt(
    standin: SendGridStandIn, readers: Sequence[str], report: dict[str, Any]
) -> Counter[str]:
    """Everyone at least once; twice only in a batch `digest status` reported in doubt."""
    copies = Counter(address for address, _ in received(standin))
    assert set(copies) == set(readers), f"missed: {sorted(set(readers) - set(copies))}"
    doubtful = {b["number"] for b in report["doubtful_batches"]}
    for address, batch in received(standin):
        if copies[address] > 1:
            assert batch in doubtful, f"{address} got {copies[address]} copies from batch {batch}"
    assert (report["pending"], report["failed"], report["sent"]) == (0, 0, len(readers))
    assert report["status"] == "sent"
    return copies


# --- kill -9 at random moments, then resume ---

KILL_READERS = 40
KILL_TABLES = {"digest": 'batch_size = 5\nconcurrency = 2\nbackend = "sendgrid"'}


@dataclass(frozen=True)
class Trial:
    killed: bool  # the sender was still running when the kill came
    mid_send: bool  # ...and the provider had some of the edition, not all of it
    duplicates: int


def kill_at_random(process: BaseProcess, rng: random.Random, started: Callable[[], bool]) -> bool:
    """SIGKILL ``process`` at a random moment: mostly while sending, sometimes earlier."""
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 0.3))  # start-up, composing or recording the ledger
    else:
        deadline = time.monotonic() + 20
        while process.is_alive() and not started() and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.3))
    alive = process.is_alive()
    if alive:
        os.kill(process.pid or 0, signal.SIGKILL)
    finish(process)
    return alive


def kill_trial(template: Path, folder: Path, rng: random.Random, seed: int) -> Trial:
    shutil.copytree(template, folder)
    config = folder / "digest.toml"
    readers = people(KILL_READERS)
    with SendGridStandIn(latency=(0.02, 0.08), seed=seed) as standin:
        env = {"SENDGRID_API_HOST": standin.url, "DIGEST_TRIAL": str(template)}
        sender = start(send_argv(config, "sendgrid"), folder / "send.log", env)
        killed = kill_at_random(sender, rng, lambda: standin.request_count > 0)
        reached = len(set(a for a, _ in received(standin)))
        resumed = run(["resume", "--config", str(config)], folder / "resume.log", env)
        assert resumed == 0, (folder / "resume.log").read_text()
        if not editions(config):  # killed before the edition was recorded: send it anew
            assert run(send_argv(config, "sendgrid"), folder / "send.log", env) == 0
        (report,) = status(config)
        copies = assert_once_unless_in_doubt(standin, readers, report)
    return Trial(killed, 0 < reached < len(readers), sum(copies.values()) - len(readers))


@pytest.fixture
def kill_template(tmp_path: Path) -> Path:
    folder = tmp_path / "template"
    prepare(write_newsroom(folder, people(KILL_READERS), **KILL_TABLES))
    return folder


def kill_trials(template: Path, count: int, seed: int) -> list[Trial]:
    rng = random.Random(seed)
    return [
        kill_trial(template, template.parent / f"trial-{n}", rng, seed * 1000 + n)
        for n in range(count)
    ]


def test_kill_9_then_resume_reaches_everyone_and_repeats_only_batches_in_doubt(
    kill_template: Path,
) -> None:
    trials = kill_trials(kill_template, 10, seed=5)

    assert sum(t.mid_send for t in trials) >= 3, trials  # the kills did land mid-send


def survivors(mark: str) -> list[int]:
    """The live processes whose environment holds ``DIGEST_TRIAL=mark`` (Linux's /proc)."""
    wanted = f"DIGEST_TRIAL={mark}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if wanted in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_kill_9_of_a_run_with_worker_processes_takes_its_workers_along(tmp_path: Path) -> None:
    folder = tmp_path / "template"
    tables = {"digest": KILL_TABLES["digest"] + "\nprocesses = 2"}
    prepare(write_newsroom(folder, people(KILL_READERS), **tables))
    trials = kill_trials(folder, 6, seed=17)

    assert sum(t.mid_send for t in trials) >= 2, trials
    deadline = time.monotonic() + 5  # the kernel's SIGKILL to the orphans is not instant
    while survivors(str(folder)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors(str(folder)) == []  # no worker outlived its run, however early the kill


@pytest.mark.slow
def test_kill_9_fifty_times(kill_template: Path) -> None:
    trials = kill_trials(kill_template, 50, seed=11)

    assert sum(t.mid_send for t in trials) >= 15, trials
    assert any(t.duplicates for t in trials)  # the in-doubt window was hit and reported


def messages(outbox: Path) -> list[Path]:
    return sorted(outbox.rglob("*.eml"))


def outbox_trial(template: Path, folder: Path, rng: random.Random) -> bool:
    """Kill an outbox send at random, resume it; True when the kill left it half written."""
    shutil.copytree(template, folder)
    config, outbox = folder / "digest.toml", folder / "outbox"
    readers = people(OUTBOX_READERS)
    sender = start(send_argv(config, "outbox"), folder / "send.log")
    killed = kill_at_random(sender, rng, lambda: bool(messages(outbox)))
    half = killed and 0 < len(messages(outbox)) < len(readers)
    assert run(["resume", "--config", str(config)], folder / "resume.log") == 0
    if not editions(config):
        assert run(send_argv(config, "outbox"), folder / "send.log") == 0
    (report,) = status(config)

    files = messages(outbox)
    assert sorted(p.name.partition("-")[2].removesuffix(".eml") for p in files) == readers
    for path in files:  # each one whole: both parts, addressed to the reader it is named for
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert path.name.endswith(f"-{message['To'].addresses[0].addr_spec}.eml")
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
    assert report["in_doubt"] == 0 and report["doubtful_batches"] == []
    assert (report["sent"], report["pending"], report["status"]) == (len(readers), 0, "sent")
    return half


OUTBOX_READERS = 120


def test_outbox_through_kill_9_has_exactly_one_message_per_reader_and_no_doubt(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template"
    config = write_newsroom(template, people(OUTBOX_READERS), digest="batch_size = 10")
    prepare(config)
    rng = random.Random(3)

    halves = [outbox_trial(template, tmp_path / f"trial-{n}", rng) for n in range(5)]

    assert sum(halves) >= 2, halves


# --- a flaky provider ---


def newsroom_for(tmp_path: Path, readers: Sequence[str], database_url: str, **tables: str) -> Path:
    config = write_newsroom(tmp_path / "desk", readers, database_url=database_url, **tables)
    prepare(config)
    return config


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


FLAKY = {
    "digest": 'batch_size = 5\nconcurrency = 3\nbackend = "sendgrid"',
    "sendgrid": "timeout = 0.25\nretries = 10\nbackoff_seconds = 0.01",
}


def expected_faults(plan: FaultPlan, batches: int) -> Counter[str]:
    """The faults ``plan`` draws before ``batches`` requests have gone through."""
    replay, faults, served = FaultPlan(plan.rate, plan.kinds, plan.seed), Counter[str](), 0
    while served < batches:
        fault = replay.draw()
        served += fault is None
        faults.update([fault] if fault else [])
    return faults


def test_a_fifth_of_requests_failing_still_reaches_everyone_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    readers = people(100)
    # A client timeout well above a loaded machine's answer time, so that only the
    # injected timeouts (held past it) time the client out.
    patient = {**FLAKY, "sendgrid": FLAKY["sendgrid"].replace("timeout = 0.25", "timeout = 2")}
    config = newsroom_for(tmp_path, readers, "", **patient)
    plan = FaultPlan(rate=0.2, kinds=("429", "500", "503", "timeout"), seed=11, slow_seconds=3)
    with SendGridStandIn(faults=plan) as standin:
        monkeypatch.setenv("SENDGRID_API_HOST", standin.url)
        code, output = cli(capsys, *send_argv(config, "sendgrid"))
        code_status, report_line = cli(capsys, "status", "--json", "--config", str(config))

    assert code == 0, output
    assert Counter(address for address, _ in received(standin)) == Counter(readers)  # once each
    faults = Counter(str(status) for status, _ in standin.rejected)
    faults["timeout"] = standin.request_count - standin.accepted_count - len(standin.rejected)
    expected = expected_faults(plan, batches=20)
    assert faults == expected and set(expected) == {"429", "500", "503", "timeout"}
    assert sum(expected.values()) / standin.request_count >= 0.2
    (summary,) = [line for line in output.splitlines() if line.startswith(SEGMENT + " ")]
    assert summary.split()[1:4] == ["1", "100", "100"]  # items, recipients, written
    assert "failed" not in summary and "stopped" not in summary
    assert code_status == 0
    report = json.loads(report_line)
    assert (report["sent"], report["pending"], report["failed"], report["status"]) == (
        100,
        0,
        0,
        "sent",
    )
    # A timed-out request may have been taken: its batch is flagged, though it was not.
    assert 1 <= len(report["doubtful_batches"]) <= faults["timeout"]


def test_answers_slower_than_the_timeout_repeat_only_batches_flagged_in_doubt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    readers = people(60)
    config = newsroom_for(tmp_path, readers, "", **FLAKY)
    plan = FaultPlan(rate=0.25, kinds=("slow",), seed=2, slow_seconds=0.5)
    with SendGridStandIn(faults=plan) as standin:
        monkeypatch.setenv("SENDGRID_API_HOST", standin.url)
        code, output = cli(capsys, *send_argv(config, "sendgrid"))
        _, report_line = cli(capsys, "status", "--json", "--config", str(config))

    assert code == 0, output
    report = json.loads(report_line)
    copies = assert_once_unless_in_doubt(standin, readers, report)
    twice = {batch for address, batch in received(standin) if copies[address] > 1}
    assert twice  # the provider took some batches more than once, and each is flagged:
    assert twice <= {b["number"] for b in report["doubtful_batches"]}


def test_worker_processes_share_a_large_edition_and_reach_everyone_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    readers = people(60)  # twelve batches of five: enough to share
    tables = {"digest": 'batch_size = 5\nconcurrency = 4\nprocesses = 2\nbackend = "sendgrid"'}
    config = newsroom_for(tmp_path, readers, "", **tables)
    made: list[SendWorkers] = []

    def watched(store: Store, settings: DeliverySettings) -> SendWorkers:
        made.append(send_workers(store, settings))
        return made[-1]

    monkeypatch.setattr(run_segments_module, "send_workers", watched)
    with SendGridStandIn() as standin:
        monkeypatch.setenv("SENDGRID_API_HOST", standin.url)
        code, output = cli(capsys, *send_argv(config, "sendgrid"))
        _, report_line = cli(capsys, "status", "--json", "--config", str(config))

    assert code == 0, output
    assert Counter(address for address, _ in received(standin)) == Counter(readers)
    (workers,) = made
    assert len(workers.pids) == 2 and os.getpid() not in workers.pids  # two other processes
    report = json.loads(report_line)
    assert (report["sent"], report["pending"], report["status"]) == (60, 0, "sent")
    (summary,) = [line for line in output.splitlines() if line.startswith(SEGMENT + " ")]
    assert summary.split()[1:4] == ["1", "60", "60"]  # items, recipients, written


# --- two senders at once ---


def send_together(
    config: Path, slots: Sequence[str], standin: SendGridStandIn, *, staggered: bool = False
) -> list[str]:
    """Start one `digest send` per slot (the later ones once the first is sending); outputs."""
    env = {"SENDGRID_API_HOST": standin.url}
    logs = [config.parent / f"send-{slot}-{n}.log" for n, slot in enumerate(slots)]
    senders = []
    for slot, log in zip(slots, logs, strict=True):
        senders.append(start(send_argv(config, "sendgrid", slot), log, env))
        deadline = time.monotonic() + 20
        while staggered and standin.request_count == 0 and time.monotonic() < deadline:
            time.sleep(0.002)
    codes = [finish(sender) for sender in senders]
    outputs = [log.read_text() for log in logs]
    assert codes == [0] * len(slots), outputs
    return outputs


def written(output: str) -> int:
    (row,) = [line for line in output.splitlines() if line.startswith(SEGMENT + " ")]
    return int(row.split()[3])


@pytest.mark.parametrize("slots", [("A", "A"), ("A", "B")])
def test_two_senders_started_together_make_one_edition_sent_once(
    tmp_path: Path, database_url: str, slots: tuple[str, str]
) -> None:
    readers = people(60)
    tables = {"digest": 'batch_size = 5\nconcurrency = 2\nbackend = "sendgrid"'}
    config = newsroom_for(tmp_path, readers, database_url, **tables)
    with SendGridStandIn(latency=(0.0, 0.02)) as standin:
        outputs = send_together(config, slots, standin)
        (edition,) = editions(config)
        (report,) = status(config)

    assert Counter(address for address, _ in received(standin)) == Counter(readers)
    assert edition.status == EditionStatus.sent
    assert (report["sent"], report["pending"], report["in_doubt"]) == (60, 0, 0)
    assert sum(written(out) for out in outputs) == 60, outputs  # between them, once each
    # One made the edition; the other found it made (while composing, or before), or
    # found it unfinished and helped send it.
    others = (
        "another run made this edition just now",
        "no new articles since",
        "resumed an unfinished edition",
    )
    assert sum(any(note in out for note in others) for out in outputs) == 1, outputs


def test_a_second_sender_joins_an_edition_being_sent_and_nobody_gets_two(
    tmp_path: Path, database_url: str
) -> None:
    readers = people(120)
    tables = {"digest": 'batch_size = 5\nconcurrency = 2\nbackend = "sendgrid"'}
    config = newsroom_for(tmp_path, readers, database_url, **tables)
    # slow enough that the second process (started once the first is sending) finds the
    # edition still being sent even on a loaded machine
    with SendGridStandIn(latency=(0.3, 0.5)) as standin:
        first, second = send_together(config, ("A", "B"), standin, staggered=True)
        (edition,) = editions(config)
        (report,) = status(config)

    assert Counter(address for address, _ in received(standin)) == Counter(readers)
    assert edition.status == EditionStatus.sent
    assert (report["sent"], report["pending"], report["in_doubt"]) == (120, 0, 0)
    assert "resumed an unfinished edition" in second, second
    assert written(first) > 0 and written(second) > 0, (first, second)  # they shared the work
    assert written(first) + written(second) == 120


HOSTILE = [
    'Zoë "Z" Müller',
    "back\\slash and\ttab",
    "two\nlines",
    "emoji 😀 and \u2028 separator",
    "%%name%% <b>bold</b> & co",
]


def test_hostile_names_reach_sendgrid_as_valid_json_with_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    readers = people(len(HOSTILE))
    config = newsroom_for(tmp_path, readers, "", **FLAKY)
    with open_store(load_config(config).database_url) as store, store.session() as session:
        for address, name in zip(readers, HOSTILE, strict=True):
            session.execute(update(Subscriber).where(Subscriber.email == address).values(name=name))
    # Without the subscribers file, the send does not merge the CSV's names back.
    config.write_text(config.read_text().replace('subscribers_file = "subscribers.csv"', ""))
    with SendGridStandIn() as standin:  # validates every body against SendGrid's schema
        monkeypatch.setenv("SENDGRID_API_HOST", standin.url)
        code, output = cli(capsys, *send_argv(config, "sendgrid"))

    assert code == 0, output
    assert standin.rejected == []
    sent = {
        p["to"][0]["email"]: p
        for request in standin.accepted
        for p in request.body["personalizations"]
    }
    with open_store(load_config(config).database_url) as store, store.session() as session:
        placeholders = Placeholders(session.scalars(select(Edition.placeholder_nonce)).one())
    in_text, in_page = placeholders.of("text")["name"], placeholders.of("html")["name"]
    for address, name in zip(readers, HOSTILE, strict=True):
        personalization = sent[address]
        shown = " ".join(name.split())
        assert personalization["to"][0]["name"] == shown  # a header: one line
        assert personalization["substitutions"][in_text] == shown
        assert personalization["substitutions"][in_page] == html.escape(shown)
