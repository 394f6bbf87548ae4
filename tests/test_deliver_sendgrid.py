"""The SendGrid backend against the local stand-in, which validates each request."""

from __future__ import annotations

import html
import json
import time
import types
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, ledger, send_segment, write_desk
from sendgrid_standin import SendGridStandIn
from sqlalchemy import select

import digest.deliver.sendgrid
from digest.render.placeholders import Placeholders
from digest.store.database import Store
from digest.store.models import DeliveryStatus, Edition, EditionStatus

SEGMENT = "politics"
BASE_URL = "https://desk.example/digest"
PEOPLE = {
    "ada@readers.example": "Ada Lovelace",
    "grace@readers.example": "Grace Hopper",
    "alan@readers.example": "Alan Turing",
    "tom@readers.example": "Tom & Jerry's",
    "edsger@readers.example": "Edsger Dijkstra",
}


def write_newsroom(folder: Path, database_url: str, people: dict[str, str] = PEOPLE) -> Path:
    """A feed of two articles, a subscribers CSV and a config sending in batches of two."""
    digest = 'backend = "outbox"\nbatch_size = 2'
    return write_desk(folder, people, database_url, digest=digest, more="[sendgrid]\ntimeout = 5")


def send(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str]:
    """``digest send`` through SendGrid: (exit code, stdout and stderr)."""
    return send_segment(capsys, config, "sendgrid", SEGMENT)


def refuse(
    standin: SendGridStandIn,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    message: str,
    field: str | None,
    containing: str = "",
) -> None:
    """Answer like SendGrid with ``status`` every request (or those naming ``containing``)."""
    served = standin._send

    def answer(headers: dict[str, str], raw: bytes) -> Any:
        if containing.encode() in raw:
            return standin._refuse(status, [(message, field)])
        return served(headers, raw)

    monkeypatch.setattr(standin, "_send", answer)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backend's waits, recorded instead of slept."""
    waited: list[float] = []
    clock = types.SimpleNamespace(time=time.time, sleep=waited.append)
    monkeypatch.setattr(digest.deliver.sendgrid, "time", clock)
    return waited


@pytest.fixture
def sg(sendgrid: SendGridStandIn) -> SendGridStandIn:
    """The stand-in (conftest's ``sendgrid``), by the short name these tests use."""
    return sendgrid


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    return write_newsroom(tmp_path / "desk", database_url)


def test_one_valid_request_per_batch_with_one_personalization_per_recipient(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    sleeps: list[float],
) -> None:
    code, output = send(capsys, config)

    assert code == 0, output
    assert sg.rejected == []
    sizes = [len(r.body["personalizations"]) for r in sg.accepted]
    assert sizes[0] == 2 and sorted(sizes) == [1, 2, 2]  # the first batch alone, then in parallel
    assert sorted(sg.recipients()) == sorted(PEOPLE)
    assert sleeps == []

    with store.session() as session:
        (edition,) = session.scalars(select(Edition))
        assert edition.status == EditionStatus.sent
    placeholders = Placeholders(edition.placeholder_nonce)
    assert placeholders.nonce  # chosen for this render
    batches = set()
    for request in sg.accepted:
        body = request.body
        assert request.headers["authorization"] == "Bearer SG.test-key"
        assert body["from"] == {"email": "digest@desk.example", "name": "City Desk"}
        assert SEGMENT in body["categories"]
        assert body["custom_args"]["edition"] == str(edition.id)
        assert body["custom_args"]["segment"] == SEGMENT
        batches.add(body["custom_args"]["batch"])
        # Rendered once: the placeholders travel in the content, the values per person.
        text, page = body["content"]
        assert (text["type"], page["type"]) == ("text/plain", "text/html")
        assert (text["value"], page["value"]) == (edition.text, edition.html)
        in_text, in_page = placeholders.of("text"), placeholders.of("html")
        for key in ("greeting", "unsubscribe_url", "preferences_url"):
            assert in_text[key] in text["value"] and in_text[key] not in page["value"]
        for key in ("greeting", "unsubscribe_url", "preferences_url"):
            assert in_page[key] in page["value"] and in_page[key] not in text["value"]
        for personalization in body["personalizations"]:
            (to,) = personalization["to"]
            name = PEOPLE[to["email"]]
            values = personalization["substitutions"]
            assert set(values) == {*in_text.values(), *in_page.values()}
            assert values[in_text["name"]] == name
            assert values[in_page["name"]] == html.escape(name)
            greeting = f"Hi {name.split()[0]}," if name else ""
            assert values[in_text["greeting"]] == greeting
            assert values[in_page["greeting"]] == html.escape(greeting)
            unsubscribe = values[in_text["unsubscribe_url"]]
            assert unsubscribe.startswith(BASE_URL + "/unsubscribe/")
            assert values[in_page["unsubscribe_url"]] == html.escape(unsubscribe)
            assert values[in_text["preferences_url"]].startswith(BASE_URL + "/preferences/")
            headers = personalization["headers"]
            first, second = headers["List-Unsubscribe"].split(", ")
            assert first == f"<{unsubscribe}>"
            assert second.startswith("<mailto:")
            assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(batches) == 3

    unsubscribe_urls = [
        p["substitutions"][placeholders.of("text")["unsubscribe_url"]]
        for r in sg.accepted
        for p in r.body["personalizations"]
    ]
    assert len(set(unsubscribe_urls)) == len(PEOPLE)
    message_ids = {
        p["to"][0]["email"]: r.message_id for r in sg.accepted for p in r.body["personalizations"]
    }
    rows = ledger(store)
    assert sorted(rows) == sorted(PEOPLE)
    for address, row in rows.items():
        assert row.status == DeliveryStatus.sent
        assert row.message_id == message_ids[address]


@pytest.mark.parametrize("fault", ["429", "503", "drop"])
def test_a_transient_failure_is_retried_and_everyone_gets_one_copy(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    sleeps: list[float],
    fault: str,
) -> None:
    sg.fail_next(1, fault)

    code, output = send(capsys, config)

    assert code == 0, output
    assert sorted(sg.recipients()) == sorted(PEOPLE)
    assert len(sg.accepted) == 3
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}
    assert len(sleeps) == 1
    # A 429 waits for X-RateLimit-Reset (at most a second ahead); others back off briefly.
    assert 0.0 <= sleeps[0] <= 1.0


def test_a_refused_batch_is_failed_with_sendgrids_message_and_the_rest_go(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    message = "Does not contain a valid address."
    refuse(sg, monkeypatch, 400, message, "personalizations.0.to.0.email", "alan@readers.example")

    code, output = send(capsys, config)

    assert code == 0, output
    assert "1 failed" in output
    assert sleeps == []  # a 400 is not retried as it was
    assert [status for status, _ in sg.rejected] == [400]
    rows = ledger(store)
    # Batches of two in subscriber order: ada+grace, alan+tom, edsger. SendGrid named
    # Alan's personalization only: Tom goes in a request of his own.
    refused = "alan@readers.example"
    assert sorted(sg.recipients()) == sorted(set(PEOPLE) - {refused})
    for address, row in rows.items():
        if address == refused:
            assert row.status == DeliveryStatus.failed
            assert "400" in row.error
            assert message in row.error
            assert "personalizations.0.to.0.email" in row.error
        else:
            assert row.status == DeliveryStatus.sent, address


def test_a_refusal_naming_no_personalization_fails_the_whole_batch(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    refuse(sg, monkeypatch, 400, "The from address is not verified.", "from.email", "alan@")

    code, output = send(capsys, config)

    assert code == 0, output
    assert "2 failed" in output
    refused = {"alan@readers.example", "tom@readers.example"}
    assert sorted(sg.recipients()) == sorted(set(PEOPLE) - refused)
    rows = ledger(store)
    assert {a for a, row in rows.items() if row.status == DeliveryStatus.failed} == refused
    assert all("from.email" in rows[a].error for a in refused)


def test_an_internationalised_address_reaches_sendgrid_as_it_is(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    tmp_path: Path,
    database_url: str,
    store: Store,
) -> None:
    people = {**PEOPLE, "用户@example.com": "Zhang Wei 张伟"}
    config = write_newsroom(tmp_path / "desk", database_url, people)

    code, output = send(capsys, config)

    assert code == 0, output
    assert sg.rejected == []
    assert sorted(sg.recipients()) == sorted(people)
    (personalization,) = [
        p
        for request in sg.accepted
        for p in request.body["personalizations"]
        if p["to"][0]["email"] == "用户@example.com"
    ]
    assert personalization["to"][0]["name"] == "Zhang Wei 张伟"
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}


def test_a_refused_key_stops_the_run_and_keeps_everyone_pending(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patch:
        refuse(sg, patch, 401, "The provided authorization grant is invalid", None)
        code, output = send(capsys, config)

    assert code != 0
    assert "Traceback" not in output
    problems = [line for line in output.splitlines() if "SENDGRID_API_KEY" in line]
    assert len(problems) == 1, output
    assert "401" in problems[0]
    assert [status for status, _ in sg.rejected] == [401]  # not retried, not per batch
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.pending}

    code, output = send(capsys, config)

    assert code == 0, output
    assert sorted(sg.recipients()) == sorted(PEOPLE)
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}


def test_a_missing_api_key_is_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SENDGRID_API_KEY")

    code, output = send(capsys, config)

    assert code == 1
    assert "Traceback" not in output
    problems = [line for line in output.splitlines() if "SENDGRID_API_KEY" in line]
    assert len(problems) == 1, output
    assert problems[0].startswith("error: SENDGRID_API_KEY is not set")
    assert sg.accepted == [] and sg.rejected == []
    with store.session() as session:
        assert session.scalars(select(Edition)).all() == []


def test_status_names_each_backend_that_accepted_batches_after_a_resume_on_another(
    capsys: pytest.CaptureFixture[str],
    sg: SendGridStandIn,
    config: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    served = sg._send

    def first_batch_only(headers: dict[str, str], raw: bytes) -> Any:
        if sg.accepted:  # the key was revoked after the first batch
            return sg._refuse(401, [("The provided authorization grant is invalid", None)])
        return served(headers, raw)

    monkeypatch.setattr(sg, "_send", first_batch_only)
    code, output = send(capsys, config)
    assert code != 0 and "digest resume" in output, output
    assert len(sg.accepted) == 1  # batch 0: Ada and Grace

    code, output = cli(capsys, "resume", "--backend", "outbox", "--config", str(config))
    assert code == 0, output
    outbox = config.parent / "outbox" / SEGMENT
    assert len(list(outbox.rglob("*.eml"))) == 3  # Alan, Tom and Edsger
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}

    code, shown = cli(capsys, "status", "--config", str(config))
    assert code == 0, shown
    (line,) = shown.splitlines()
    assert " sent via sendgrid (1 batch), outbox (2 batches): 5 recipients, 5 sent" in line
    code, shown = cli(capsys, "status", "--json", "--config", str(config))
    report = json.loads(shown)
    assert report["backends"] == {"sendgrid": 1, "outbox": 2}
    assert report["backend"] == "sendgrid"  # the one it was started with
    assert list(report["backends"]) == ["sendgrid", "outbox"]
