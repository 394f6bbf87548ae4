"""The README's main job, end to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpers import run_cli
from sqlalchemy import func, select, update

from digest.config import load_config
from digest.store.database import open_store
from digest.store.models import Delivery, DeliveryStatus, Edition, EditionStatus
from subscribers.models import Status, Subscriber

SEED_URL_PART = "putin-russian-interference"


def audience_sizes(config_path: Path) -> dict[str, int]:
    with (config_path.parent / "subscribers.csv").open(encoding="utf-8") as f:
        lists = [set(row["lists"].split(";")) for row in csv.DictReader(f)]
    return {name: sum(name in ls for ls in lists) for name in load_config(config_path).segments}


def messages(outbox: Path) -> dict[Path, EmailMessage]:
    return {
        path: email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.rglob("*.eml"))
    }


def test_main_job_writes_one_valid_message_per_recipient_and_then_nothing(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "run", "--config", str(newsroom))
    assert code == 0, err
    outbox = newsroom.parent / "outbox"
    sizes = audience_sizes(newsroom)
    found = messages(outbox)
    per_segment = {name: len(list((outbox / name).rglob("*.eml"))) for name in sizes}
    assert per_segment == sizes and sum(sizes.values()) >= 50

    for line in out.splitlines():
        for name, size in sizes.items():
            if line.startswith(name + " "):
                columns = line.split()
                assert columns[2:4] == [str(size), str(size)]
                assert Path(columns[4]).is_file() and columns[4].endswith("preview.html")

    seen_seed = 0
    for path, message in found.items():
        assert message["Subject"].strip()
        assert message.get_content_type() == "multipart/alternative"
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None and html is not None
        text, markup = plain.get_content(), html.get_content()
        assert len(markup.encode("utf-8")) < 102_000
        assert "%%" not in text and "%%" not in markup
        headers = message.get_all("List-Unsubscribe")
        assert headers is not None and len(headers) == 1
        assert re.fullmatch(r"<https://[^>]+/unsubscribe/[\w.-]+>, <mailto:[^>]+>", headers[0])
        assert message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
        assert "12 Fleet Street" in text and "12 Fleet Street" in markup
        assert "Unsubscribe" in markup and "/preferences/" in markup
        if SEED_URL_PART in text:
            seen_seed += 1
            item = text.split(SEED_URL_PART)[0].rsplit("\n\n", 2)[-2]
            assert "Putin" in item
            for junk in (
                "Must Read",
                "/CC",
                "sociologist",
                "Western liberalism",
                "Andrei Santov\n",
            ):
                assert junk not in item, (path, junk)
    assert seen_seed >= sizes["politics-daily"]

    # Each segment's slot has had its edition: the next run fetches nothing and says when
    # each is next due; forced, every segment finds nothing new.
    code, out, err = run_cli(capsys, "run", "--config", str(newsroom))
    assert code == 0, err
    assert re.fullmatch(
        "nothing due; next: "
        + ", ".join(rf"{name} \d{{4}}-\d\d-\d\d \d\d:\d\d \w+" for name in sizes)
        + "\n",
        out,
    ), out
    code, out, err = run_cli(capsys, "run", "--all", "--config", str(newsroom))
    assert code == 0, err
    assert messages(outbox).keys() == found.keys()
    for name in sizes:
        assert re.search(rf"^{name}\s+0\s+0\s+0\s+no new articles since \d{{4}}-", out, re.M)


def test_every_delivery_is_in_the_ledger(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "run", "--config", str(newsroom))[0] == 0
    store = open_store(load_config(newsroom).database_url)
    try:
        with store.session() as session:
            editions = list(session.scalars(select(Edition)))
            assert {e.status for e in editions} == {EditionStatus.sent}
            assert len(editions) == 3
            sent = session.scalar(
                select(func.count()).where(Delivery.status == DeliveryStatus.sent)
            )
            assert sent == sum(audience_sizes(newsroom).values())
    finally:
        store.close()


def test_send_runs_one_segment_and_refuses_an_unknown_one(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run_cli(capsys, "send", "--segment", "tech-weekly", "--config", str(newsroom))
    assert code == 0
    outbox = newsroom.parent / "outbox"
    assert [p.name for p in outbox.iterdir()] == ["tech-weekly"]
    code, _, err = run_cli(capsys, "send", "--segment", "sports", "--config", str(newsroom))
    assert code == 2
    known = "everything-weekly, politics-daily, tech-weekly"
    assert err.strip().splitlines() == [f"error: unknown segment 'sports': choose one of {known}"]


def test_bad_rows_and_dead_feeds_are_reported_and_the_rest_goes_on(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = newsroom.parent
    with (folder / "subscribers.csv").open("a", encoding="utf-8") as f:
        f.write("not-an-email,Broken Row,politics-daily,Europe/London,en-GB,politics\n")
    (folder / "feeds" / "techwire.atom").unlink()
    code, out, err = run_cli(capsys, "run", "--config", str(newsroom))
    assert code == 1
    assert "Traceback" not in out + err
    csv_line = len((folder / "subscribers.csv").read_text(encoding="utf-8").splitlines())
    assert f"subscribers.csv:{csv_line}: invalid email address 'not-an-email'" in err
    assert re.search(r"^error techwire cannot read .*techwire\.atom", err, re.M)
    valid = audience_sizes(newsroom)["politics-daily"] - 1  # the broken row is not a recipient
    assert len(list((folder / "outbox" / "politics-daily").rglob("*.eml"))) == valid


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--config", "missing.toml"], "config file not found"),
        (["run", "--backend", "pigeon"], "Invalid value for '--backend'"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *args)
    assert code in (1, 2)
    assert expected in err and "Traceback" not in err
    assert (
        len([line for line in err.splitlines() if line.startswith("error") or "Error" in line]) == 1
    )


def list_names(config_path: Path, email: str) -> set[str]:
    with open_store(load_config(config_path).database_url) as store, store.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email == email)).one().list_names


def test_the_run_adds_the_files_lists_and_counts_what_it_kept(
    newsroom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = newsroom.parent / "subscribers.csv"
    send = ("send", "--segment", "tech-weekly", "--no-ingest", "--config", str(newsroom))
    code, out, err = run_cli(capsys, *send)
    assert (code, err) == (0, "")
    assert "subscribers: 60 added, 0 updated, 0 unchanged, 0 kept suppressed, 0 skipped\n" in out
    with open_store(load_config(newsroom).database_url) as store, store.session() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "bjorn.lindgren@example.net")
            .values(status=Status.unsubscribed)
        )
    text = people.read_text(encoding="utf-8")
    moved = text.replace("Priya Nair,tech-weekly,", "Priya Nair,politics-daily,")
    people.write_text(moved + "new.reader@example.org,New Reader,tech-weekley,UTC,,\n")

    code, out, err = run_cli(capsys, *send)
    assert code == 0
    config = load_config(newsroom).path
    assert err == (
        f"warning: {people}:62: list 'tech-weekley' (1 row) is in no segment's lists in {config}; "
        "add it to a segment's lists, or fix the spelling\n"
    )
    assert "subscribers: 1 added, 1 updated, 58 unchanged, 1 kept suppressed, 0 skipped\n" in out
    assert list_names(newsroom, "priya.nair@example.com") == {"tech-weekly", "politics-daily"}

    body = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(body.replace("[audience]\n", "[audience]\nreplace_lists = true\n"))
    code, out, _ = run_cli(capsys, *send)
    assert code == 0
    assert (
        "subscribers: 0 added, 1 updated, 59 unchanged, 1 kept suppressed, 0 skipped, "
        "1 list membership removed\n"
    ) in out
    assert list_names(newsroom, "priya.nair@example.com") == {"politics-daily"}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.csv", None, ": cannot open the file (No such file or directory); check the path"),
        (
            "latin.csv",
            "email,name\nzoe@example.com,Zoë\n".encode("latin-1"),
            ":2: not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)",
        ),
        (
            "people.csv",
            b"address,name\nzoe@example.com,Zoe\n",
            ":1: no 'email' column in the header row; name one column email",
        ),
    ],
    ids=["missing", "latin-1", "no-email-column"],
)
def test_an_unusable_subscribers_file_is_one_line_and_the_rest_of_the_run_goes_on(
    newsroom: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    problem: str,
) -> None:
    folder = newsroom.parent
    stored = run_cli(
        capsys, "subscribers", "import", str(folder / "subscribers.csv"), "--config", str(newsroom)
    )
    assert stored[0] == 0, stored
    if content is not None:
        (folder / name).write_bytes(content)
    body = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(
        body.replace('subscribers_file = "subscribers.csv"', f'subscribers_file = "{name}"')
    )

    code, out, err = run_cli(capsys, "run", "--config", str(newsroom))
    assert code == 1
    config = load_config(newsroom).path
    assert err.splitlines() == [
        f"error: {config}: [audience] subscribers_file '{name}' is unusable: "
        f"{folder / name}{problem}; nothing was merged"
    ]
    assert "--map" not in out
    assert "ok talking-democrat 13 new" in out  # ingested all the same
    outbox = folder / "outbox"
    sent = {
        segment: len(list((outbox / segment).rglob("*.eml")))
        for segment in audience_sizes(newsroom)
    }
    assert sent == audience_sizes(newsroom)  # and sent to the subscribers stored before
