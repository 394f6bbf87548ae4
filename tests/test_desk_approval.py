"""A segment with ``approval = "required"`` never goes out without an editor's approval or
its deadline rule: held at its run, the editors told once, approved (or refused when the
draft changed since it was shown), skipped, or decided by the deadline; and two runs or two
approvals at once never notify or send twice. On SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import cli, free_port, together
from sqlalchemy import func, select

from digest.config import Config, load_config
from digest.intake.ingest import SourceReport, ingest_all
from digest.run import desk
from digest.run.desk_mail import NOTICES, outbox_folder
from digest.run.job import due_job
from digest.run.scheduler import next_wake
from digest.run.segments import run_segments
from digest.run.subscribers_file import AudienceReport, merge_subscribers_file
from digest.store.database import Store
from digest.store.models import Delivery, Edition, HeldEdition, HoldStatus

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 07:00 in London: the segment's schedule
POLITICS = "politics-daily"
LONDON = ZoneInfo("Europe/London")
EDITOR = "ed@newsroom.example"
TOLD = ("ed@newsroom.example", "night.desk@newsroom.example")


def require_approval(newsroom: Path, store: Store, rule: str = "") -> Config:
    """The newsroom with politics-daily held for approval (and ``rule`` added to its
    table), two editors to tell, its subscribers merged and its feeds ingested."""
    text = newsroom.read_text(encoding="utf-8")
    marker = f"[segments.{POLITICS}]\n"
    text = text.replace(marker, marker + f'approval = "required"\n{rule}\n')
    text += '\n[desk]\nnotify = ["ed@newsroom.example", "night.desk@newsroom.example"]\n'
    newsroom.write_text(text, encoding="utf-8")
    config = load_config(newsroom)
    merge_subscribers_file(store, config, NOW)
    ingest_all(store, config, NOW)
    return config


@pytest.fixture
def config(newsroom: Path, store: Store) -> Config:
    return require_approval(newsroom, store)


def run(store: Store, config: Config, now: datetime) -> str:
    (report,) = run_segments(store, config, "", [POLITICS], now=now)
    assert not report.failed, report.note
    return report.note


class Quiet:
    """A job watcher that keeps nothing."""

    def merged(self, report: AudienceReport) -> None:
        pass

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        pass


def count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def held(store: Store) -> list[HeldEdition]:
    with store.session() as session:
        return list(session.scalars(select(HeldEdition).order_by(HeldEdition.id)))


def editions(store: Store) -> list[Edition]:
    with store.session() as session:
        return list(session.scalars(select(Edition).order_by(Edition.id)))


def notices(config: Config) -> list[email.message.EmailMessage]:
    folder = outbox_folder(config, NOTICES, POLITICS)
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found.append(message)
    return found


def sent_messages(config: Config, edition_id: int) -> list[Path]:
    return sorted((config.outbox_dir / POLITICS / f"edition-{edition_id}").glob("*.eml"))


def test_a_run_holds_the_edition_and_tells_the_editors_once(store: Store, config: Config) -> None:
    assert run(store, config, NOW) == "waiting for approval (2 editors told)"
    assert editions(store) == [] and count(store, Delivery) == 0
    (hold,) = held(store)
    assert hold.status == HoldStatus.waiting and hold.slot == "at 2026-11-26T07:00"
    assert hold.due_at == NOW and hold.deadline_at is None and hold.notified_at == NOW
    told = notices(config)
    assert sorted(m["To"].addresses[0].addr_spec for m in told) == sorted(TOLD)
    for message in told:
        assert message["Subject"] == "Waiting for approval: Politics Daily"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "https://newsroom.example/digest/desk/segments/politics-daily/" in text
        assert "digest approve --segment politics-daily" in text
    view = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=5))
    assert view.state == desk.WAITING and view.waiting_since == NOW and view.items

    later = run(store, config, NOW + timedelta(minutes=10))
    assert later.startswith("still waiting for approval since 2026-11-26 07:00 GMT")
    assert later.endswith("no deadline: it waits for an editor")
    assert len(held(store)) == 1 and len(notices(config)) == 2 and editions(store) == []
    assert [e.action for e in desk.log(store, POLITICS)] == ["hold"]


def test_approve_records_the_edition_and_sends_it_through_the_ledger(
    store: Store, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    run(store, config, NOW)
    shown = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=5))
    report = desk.approve(
        store, config, POLITICS, EDITOR, shown.fingerprint, NOW + timedelta(minutes=6)
    )
    (edition,) = editions(store)
    assert edition.approved_by == EDITOR and edition.slot == "at 2026-11-26T07:00"
    assert edition.subject == shown.subject
    assert report.recipients == report.written == count(store, Delivery) > 0
    assert len(sent_messages(config, edition.id)) == report.recipients
    (hold,) = held(store)
    assert (hold.status, hold.decided_by, hold.edition_id) == (
        HoldStatus.approved,
        EDITOR,
        edition.id,
    )
    approved, hold_row = desk.log(store, POLITICS, edition_id=edition.id)
    assert (approved.action, approved.editor) == ("approve", EDITOR)
    assert (hold_row.action, hold_row.editor) == ("hold", "")
    assert hold_row.detail == "held the edition of at 2026-11-26T07:00 for approval"
    with pytest.raises(desk.NothingWaitingError, match="no edition waiting for approval"):
        desk.approve(store, config, POLITICS, EDITOR)
    code, output = cli(capsys, "approve", "--config", str(config.path), "--segment", POLITICS)
    assert code == 1 and output.startswith("error: politics-daily has no edition waiting")
    assert len(output.splitlines()) == 1
    assert run(store, config, NOW + timedelta(days=1)).startswith("no new articles since")


def test_digest_approve_sends_the_held_edition_from_a_script(
    store: Store, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    run(store, config, NOW)
    args = ("--config", str(config.path), "--segment", POLITICS)
    code, output = cli(capsys, "approve", *args, "--backend", "outbox")
    (edition,) = editions(store)
    written = len(sent_messages(config, edition.id))
    assert code == 0, output
    assert f"approved politics-daily: edition {edition.id}" in output
    assert f"{written} written" in output and written > 0
    assert edition.approved_by == "digest approve"
    code, output = cli(capsys, "approve", "--config", str(config.path))
    assert code == 2 and "--segment" in output


def test_digest_approve_with_nothing_left_to_send_is_one_line_and_exit_1(
    store: Store, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    run(store, config, NOW)
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    for article_id in [i.article_id for i in view.items] + [o.article_id for o in view.left_out]:
        desk.exclude(store, config, POLITICS, article_id, EDITOR, NOW)
    assert desk.next_edition(store, config, POLITICS, now=NOW).items == ()
    code, output = cli(capsys, "approve", "--config", str(config.path), "--segment", POLITICS)
    assert code == 1 and len(output.splitlines()) == 1, output
    assert output.startswith("error: nothing to send in politics-daily's held edition: no new")
    assert "`digest skip --segment politics-daily` drops it" in output
    assert editions(store) == [] and held(store)[0].status == HoldStatus.waiting
    code, output = cli(capsys, "skip", "--config", str(config.path), "--segment", POLITICS)
    assert code == 0 and output.startswith("skipped politics-daily's edition of at 2026-11-26")
    assert desk.log(store, POLITICS)[0].editor == "digest skip"


def test_an_approval_of_a_changed_draft_is_refused_and_sends_nothing(
    store: Store, config: Config
) -> None:
    run(store, config, NOW)
    shown = desk.next_edition(store, config, POLITICS, now=NOW)
    first = shown.items[0]
    desk.edit(store, config, POLITICS, first.article_id, "Changed by a colleague", "", "x@y.z")
    desk.set_note(store, config, POLITICS, "A late note", "x@y.z")
    with pytest.raises(desk.StaleDraftError) as refused:
        desk.approve(store, config, POLITICS, EDITOR, shown.fingerprint, NOW)
    assert refused.value.changes == [
        f"#{first.article_id} {first.title!r} has another headline or summary",
        "the editor's note changed",
        "the subject is now 'Changed by a colleague'",  # the top headline's
    ]
    assert "changed since it was shown" in str(refused.value)
    assert editions(store) == [] and count(store, Delivery) == 0
    assert held(store)[0].status == HoldStatus.waiting
    fresh = desk.next_edition(store, config, POLITICS, now=NOW)
    desk.approve(store, config, POLITICS, EDITOR, fresh.fingerprint, NOW)
    assert len(editions(store)) == 1


def test_skip_drops_the_held_edition_and_its_articles_stay_new(
    store: Store, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    run(store, config, NOW)
    before = desk.next_edition(store, config, POLITICS, now=NOW)
    said = desk.skip(store, config, POLITICS, EDITOR, NOW + timedelta(minutes=1))
    assert said.startswith("skipped politics-daily's edition of at 2026-11-26T07:00")
    assert held(store)[0].status == HoldStatus.skipped and editions(store) == []
    after = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=2))
    assert after.state == desk.DRAFT and after.fingerprint == before.fingerprint
    code, output = cli(capsys, "skip", "--config", str(config.path), "--segment", POLITICS)
    assert code == 1 and "no edition waiting" in output
    assert run(store, config, NOW + timedelta(days=1)) == "waiting for approval (2 editors told)"
    assert len(notices(config)) == 4 and len(held(store)) == 2


@pytest.mark.parametrize("outcome", ["send", "skip"])
def test_the_deadline_rule_decides_when_nobody_acts(
    newsroom: Path, store: Store, outcome: str
) -> None:
    config = require_approval(newsroom, store, f'approval_deadline = 30\non_deadline = "{outcome}"')
    run(store, config, NOW)
    assert held(store)[0].deadline_at == NOW + timedelta(minutes=30)
    waiting = run(store, config, NOW + timedelta(minutes=20))
    word = "sent as it stands" if outcome == "send" else "skipped"
    assert waiting.endswith(f"at 2026-11-26 07:30 GMT it will be {word}")
    note = run(store, config, NOW + timedelta(minutes=31))
    (hold,) = held(store)
    (entry, _) = desk.log(store, POLITICS)
    assert (entry.editor, entry.action) == ("", f"deadline: {outcome}")
    if outcome == "send":
        (edition,) = editions(store)
        assert note == "approval deadline passed: sent by on_deadline"
        assert (hold.status, hold.edition_id, edition.approved_by) == (
            HoldStatus.sent,
            edition.id,
            "",
        )
        assert entry.edition_id == edition.id
        assert len(sent_messages(config, edition.id)) == count(store, Delivery) > 0
    else:
        assert note.startswith("approval deadline passed: nobody acted by 2026-11-26 07:30 GMT")
        assert hold.status == HoldStatus.skipped and editions(store) == []
        assert count(store, Delivery) == 0
        view = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=32))
        assert view.state == desk.DRAFT and view.items  # its articles stay new
    with pytest.raises(desk.NothingWaitingError):
        desk.approve(store, config, POLITICS, EDITOR)


def test_the_editors_are_told_again_when_telling_them_failed(newsroom: Path, store: Store) -> None:
    refused = free_port()  # nothing listens there
    text = newsroom.read_text(encoding="utf-8")
    text = text.replace('host = "smtp.newsroom.example"', 'host = "127.0.0.1"')
    text = text.replace("port = 587", f"port = {refused}").replace('username = "digest"', "")
    newsroom.write_text(text.replace('security = "starttls"', 'security = "none"'), "utf-8")
    config = require_approval(newsroom, store)
    (report,) = run_segments(store, config, "smtp", [POLITICS], now=NOW)
    assert report.failed and "waiting for approval; the editors could not be told: " in report.note
    assert held(store)[0].notified_at is None and editions(store) == []
    again = run(store, config, NOW + timedelta(minutes=1))
    assert again.startswith("still waiting for approval") and again.endswith("(2 editors told)")
    assert len(notices(config)) == 2 and held(store)[0].notified_at == NOW + timedelta(minutes=1)
    assert run(store, config, NOW + timedelta(minutes=2)).endswith("waits for an editor")


def test_two_runs_at_once_hold_once_and_tell_the_editors_once(store: Store, config: Config) -> None:
    notes = together(
        4, lambda n: run_segments(store, config, "", [POLITICS], now=NOW + timedelta(minutes=n))
    )
    said = sorted(report.note for (report,) in notes)
    assert said.count("waiting for approval (2 editors told)") == 1
    assert len(held(store)) == 1 and len(notices(config)) == 2 and editions(store) == []


def test_two_approvals_at_once_send_once(store: Store, config: Config) -> None:
    run(store, config, NOW)
    fingerprint = desk.next_edition(store, config, POLITICS, now=NOW).fingerprint

    def approve(n: int) -> str:
        try:
            report = desk.approve(store, config, POLITICS, f"editor{n}@x.example", fingerprint, NOW)
        except (desk.AlreadyDecidedError, desk.NothingWaitingError) as e:
            return f"refused: {e}"
        return f"sent to {report.written}"

    answers = together(3, approve)
    assert sum(a.startswith("sent to") for a in answers) == 1, answers
    (edition,) = editions(store)
    assert len(sent_messages(config, edition.id)) == count(store, Delivery) > 0
    assert held(store)[0].status == HoldStatus.approved


def test_a_cron_run_and_the_scheduler_apply_the_deadline_at_its_time(
    newsroom: Path, store: Store
) -> None:
    config = require_approval(newsroom, store, 'approval_deadline = 30\non_deadline = "send"')
    (first,) = [
        r for r in due_job(store, config, "", Quiet(), now=NOW).segments if r.segment == POLITICS
    ]
    assert first.note.startswith("waiting for approval"), first.note
    # The scheduler wakes at the deadline; a cron run before it changes nothing.
    assert next_wake(store, config, NOW + timedelta(minutes=29, seconds=30)) == NOW + timedelta(
        minutes=30
    )
    early = due_job(store, config, "", Quiet(), now=NOW + timedelta(minutes=29))
    assert early.idle and early.segments == []
    assert [e.segment for e in editions(store)] == ["tech-weekly", "everything-weekly"]

    late = due_job(store, config, "", Quiet(), now=NOW + timedelta(minutes=30))
    (report,) = late.segments
    assert report.note == "approval deadline passed: sent by on_deadline"
    edition = editions(store)[-1]
    assert edition.segment == POLITICS and edition.approved_by == ""
    assert held(store)[0].status == HoldStatus.sent
