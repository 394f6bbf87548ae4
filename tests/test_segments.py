"""Audience rules of segments, on SQLite and PostgreSQL, and the `digest segments` command.

Seven subscribers cover every rule kind; each test names who a rule must match, so a
rule that matched one person too many or too few fails with the names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import MINIMAL, add_edition
from sqlalchemy import select

from digest.cli import main
from digest.config import load_config
from digest.deliver.recipients import record_recipients, segment_rule
from digest.errors import ConfigError
from digest.store.database import Store
from digest.store.models import Delivery, EditionStatus
from subscribers.audience import Rule, audience, matching, sizes
from subscribers.models import Membership, Status, Subscriber

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
EVERY_STATUS = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Person:
    name: str
    status: Status
    lists: tuple[str, ...]
    tags: list[str] | None
    attributes: dict[str, Any]
    signed_up_at: datetime


PEOPLE = (
    Person(
        "ann",
        Status.active,
        ("news",),
        ["ai", "climate"],
        {"frequency": "daily", "plan": "pro", "team": "x"},
        datetime(2024, 1, 10, tzinfo=UTC),
    ),
    Person(
        "bob",
        Status.active,
        ("news",),
        ["ai"],
        {"frequency": "weekly", "plan": "free"},
        datetime(2024, 3, 1, tzinfo=UTC),
    ),
    Person("cat", Status.active, ("other",), [], {}, datetime(2023, 12, 31, 23, tzinfo=UTC)),
    Person(
        "dan",
        Status.bounced,
        ("news",),
        ["climate"],
        {"frequency": "daily", "plan": "pro"},
        datetime(2024, 2, 1, tzinfo=UTC),
    ),
    Person(
        "eve",
        Status.pending,
        ("news",),
        ["ai", "climate", "sport"],
        {"plan": ""},
        datetime(2024, 5, 1, tzinfo=UTC),
    ),
    # A JSON null instead of a list of tags must not break the query on either database.
    Person(
        "gus", Status.active, ("other",), None, {"plan": "team"}, datetime(2024, 6, 1, tzinfo=UTC)
    ),
    Person(
        "ida",
        Status.unsubscribed,
        (),
        ["sport"],
        {"frequency": "monthly"},
        datetime(2024, 4, 1, tzinfo=UTC),
    ),
)


@pytest.fixture
def people(store: Store) -> Iterator[Store]:
    with store.session() as session:
        for p in PEOPLE:
            subscriber = Subscriber(
                email=f"{p.name}@readers.example",
                name=p.name.title(),
                status=p.status,
                followed_tags=p.tags,
                attributes=p.attributes,
                signed_up_at=p.signed_up_at,
                locale="de-DE" if p.name == "bob" else "en-GB",
            )
            subscriber.lists = [Membership(list_name=name) for name in p.lists]
            session.add(subscriber)
    yield store


def matched(store: Store, rule: Rule) -> list[str]:
    """Everyone the rule matches, in the statuses it names, by first name."""
    with store.session() as session:
        query = select(Subscriber.email).where(matching(rule)).order_by(Subscriber.email)
        return [email.split("@")[0] for email in session.scalars(query)]


def sent_to(store: Store, rule: Rule) -> list[str]:
    with store.session() as session:
        return sorted(s.email.split("@")[0] for s in audience(session, rule))


def test_default_rule_is_every_active_subscriber(people: Store) -> None:
    assert matched(people, Rule()) == ["ann", "bob", "cat", "gus"]
    assert sent_to(people, Rule()) == ["ann", "bob", "cat", "gus"]


def test_statuses_widen_the_count_but_never_the_send(people: Store) -> None:
    rule = Rule(lists=("news",), statuses=("active", "bounced", "pending"))
    assert matched(people, rule) == ["ann", "bob", "dan", "eve"]
    assert sent_to(people, rule) == ["ann", "bob"]
    assert matched(people, Rule(statuses=("unsubscribed",))) == ["ida"]
    assert sent_to(people, Rule(statuses=("unsubscribed",))) == []
    with people.session() as session:
        assert sizes(session, rule) == (4, 2)
        assert sizes(session, Rule(statuses=("bounced",))) == (1, 0)


def test_follows_any(people: Store) -> None:
    assert matched(people, Rule(follows_any=("ai", "sport"))) == ["ann", "bob"]
    assert matched(people, Rule(follows_any=("sport",), statuses=EVERY_STATUS)) == ["eve", "ida"]
    assert matched(people, Rule(follows_any=("nothing",))) == []


def test_follows_all(people: Store) -> None:
    assert matched(people, Rule(follows_all=("ai", "climate"))) == ["ann"]
    assert matched(people, Rule(follows_all=("ai", "climate"), statuses=EVERY_STATUS)) == [
        "ann",
        "eve",
    ]
    assert matched(people, Rule(follows_all=("ai",))) == ["ann", "bob"]


def test_follows_none(people: Store) -> None:
    assert matched(people, Rule(follows_none=("ai",))) == ["cat", "gus"]
    assert matched(people, Rule(follows_none=("ai", "sport"), statuses=EVERY_STATUS)) == [
        "cat",
        "dan",
        "gus",
    ]


def test_frequency_with_unset(people: Store) -> None:
    assert matched(people, Rule(frequencies=("daily",))) == ["ann"]
    assert matched(people, Rule(frequencies=("daily",), statuses=EVERY_STATUS)) == ["ann", "dan"]
    assert matched(people, Rule(frequencies=("weekly", ""))) == ["bob", "cat", "gus"]


def test_attribute_equals(people: Store) -> None:
    assert matched(people, Rule(where={"plan": "pro"})) == ["ann"]
    assert matched(people, Rule(where={"plan": "pro", "team": "x"})) == ["ann"]
    assert matched(people, Rule(where={"locale": "de-DE"})) == ["bob"]


def test_attribute_in(people: Store) -> None:
    assert matched(people, Rule(attributes_in={"plan": ("pro", "team")})) == ["ann", "gus"]
    assert matched(people, Rule(attributes_in={"plan": ("free", "")})) == ["bob", "cat"]
    everyone = Rule(attributes_in={"plan": ("free", "")}, statuses=EVERY_STATUS)
    assert matched(people, everyone) == ["bob", "cat", "eve", "ida"]
    assert matched(people, Rule(attributes_in={"locale": ("de-DE", "fr-FR")})) == ["bob"]


def test_attribute_exists(people: Store) -> None:
    assert matched(people, Rule(attributes_exist=("plan",))) == ["ann", "bob", "gus"]
    # eve's plan is "": present but empty does not count as set
    assert matched(people, Rule(attributes_exist=("plan",), statuses=EVERY_STATUS)) == [
        "ann",
        "bob",
        "dan",
        "gus",
    ]
    assert matched(people, Rule(attributes_exist=("plan", "team"))) == ["ann"]


def test_signed_up_after_is_inclusive_and_before_exclusive(people: Store) -> None:
    assert matched(people, Rule(signed_up_after=datetime(2024, 1, 1, tzinfo=UTC))) == [
        "ann",
        "bob",
        "gus",
    ]
    assert matched(people, Rule(signed_up_before=datetime(2024, 3, 1, tzinfo=UTC))) == [
        "ann",
        "cat",
    ]
    assert matched(people, Rule(signed_up_after=datetime(2024, 3, 1, tzinfo=UTC))) == [
        "bob",
        "gus",
    ]
    window = Rule(
        signed_up_after=datetime(2024, 1, 1, tzinfo=UTC),
        signed_up_before=datetime(2024, 6, 1, tzinfo=UTC),
        statuses=EVERY_STATUS,
    )
    assert matched(people, window) == ["ann", "bob", "dan", "eve", "ida"]


def test_rules_combine_with_and(people: Store) -> None:
    rule = Rule(
        lists=("news",),
        follows_any=("ai", "sport"),
        frequencies=("daily",),
        signed_up_before=datetime(2024, 2, 1, tzinfo=UTC),
    )
    assert matched(people, rule) == ["ann"]
    assert matched(people, Rule(lists=("news",), follows_none=("climate",))) == ["bob"]
    assert matched(people, Rule(lists=("other",), attributes_exist=("plan",))) == ["gus"]
    wide = Rule(
        lists=("news",),
        follows_all=("climate",),
        attributes_in={"plan": ("pro", "")},
        statuses=EVERY_STATUS,
    )
    assert matched(people, wide) == ["ann", "dan", "eve"]
    assert sent_to(people, wide) == ["ann"]


def test_the_ledger_records_only_active_subscribers(people: Store) -> None:
    with people.session() as session:
        edition = add_edition(
            session,
            "news",
            "once",
            EditionStatus.sending,
            NOW,
            backend="outbox",
            subject="s",
            html="<p>h</p>",
            text="t",
        )
        rule = Rule(lists=("news",), statuses=EVERY_STATUS, follows_any=("ai", "climate"))
        assert record_recipients(session, edition.id, rule, 1) == 2
        recorded = session.scalars(select(Delivery.email).where(Delivery.edition_id == edition.id))
        assert sorted(recorded) == ["ann@readers.example", "bob@readers.example"]


CONFIG = """
[digest]
database_url = "{url}"
[sender]
email = "digest@news.example"
postal_address = "1 Main Street, Springfield"
base_url = "https://news.example"
[segments.ai-news]
lists = ["news"]
follows_any = ["ai"]
status = ["active", "pending", "bounced"]
personalised = true
[segments.pros]
attribute_in = {{plan = ["pro", "team"]}}
signed_up_after = 2024-01-01
[segments.everyone]
"""


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_segments_command_text(
    people: Store, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, CONFIG.format(url=database_url))
    main(["segments", "--config", str(config)])
    assert capsys.readouterr().out.splitlines() == [
        "ai-news: 3 matching, 2 active (sendable), personalised yes",
        "  status active|pending|bounced, lists news, follows any ai",
        "pros: 2 matching, 2 active (sendable), personalised no",
        "  status active, plan in pro|team, signed up from 2024-01-01T00:00:00+00:00",
        "everyone: 4 matching, 4 active (sendable), personalised no",
        "  status active",
    ]


def test_segments_command_json(
    people: Store, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, CONFIG.format(url=database_url))
    main(["segments", "--config", str(config), "--json"])
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(f["segment"], f["matching"], f["sendable"], f["personalised"]) for f in found] == [
        ("ai-news", 3, 2, True),
        ("pros", 2, 2, False),
        ("everyone", 4, 4, False),
    ]
    assert found[0]["audience"]["status"] == ["active", "pending", "bounced"]
    assert found[0]["audience"]["follows_any"] == ["ai"]
    assert found[1]["audience"]["attribute_in"] == {"plan": ["pro", "team"]}
    assert found[1]["audience"]["signed_up_after"] == "2024-01-01"
    assert found[2]["rule"] == "status active"


def test_settings_become_the_rule(tmp_path: Path) -> None:
    body = MINIMAL + (
        'lists = ["news"]\nwhere = {locale = "de-DE"}\nstatus = ["active", "bounced"]\n'
        'follows_any = ["ai"]\nfollows_all = ["a", "b"]\nfollows_none = ["sport"]\n'
        'frequency = ["daily", ""]\nattribute_in = {plan = ["pro"]}\n'
        'attribute_exists = ["team"]\nsigned_up_after = "2024-01-01"\n'
        'signed_up_before = "2024-06-01T12:00:00+02:00"\n'
    )
    rule = segment_rule(load_config(write_config(tmp_path, body)).segment("daily"))
    assert rule == Rule(
        lists=("news",),
        where={"locale": "de-DE"},
        statuses=("active", "bounced"),
        follows_any=("ai",),
        follows_all=("a", "b"),
        follows_none=("sport",),
        frequencies=("daily", ""),
        attributes_in={"plan": ("pro",)},
        attributes_exist=("team",),
        signed_up_after=datetime(2024, 1, 1, tzinfo=UTC),
        signed_up_before=datetime(2024, 6, 1, 10, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'status = ["activ"]',
            "[segments.daily] status: 'activ' is not one of pending, active, unsubscribed, "
            "bounced, complained",
        ),
        ("status = []", "[segments.daily] status: name at least one status"),
        (
            'signed_up_after = "2024-13-01"',
            "[segments.daily] signed_up_after: '2024-13-01' is not an ISO date or date-time",
        ),
        (
            'signed_up_before = "last tuesday"',
            "[segments.daily] signed_up_before: 'last tuesday' is not an ISO date",
        ),
        (
            'signed_up_after = "2024-06-01"\nsigned_up_before = "2024-01-01"',
            "[segments.daily]: signed_up_after must be earlier than signed_up_before",
        ),
        (
            'attribute_in = {plan = "pro"}',
            "[segments.daily] attribute_in: expected a table of lists",
        ),
        ("attribute_in = {plan = []}", "[segments.daily] attribute_in: 'plan' needs at least one"),
        ('follows_any = "ai"', "[segments.daily] follows_any: expected a list of strings"),
        ("signed_up_after = 2024", "[segments.daily] signed_up_after: expected a string"),
        (
            'frequency = ["hourly"]',
            "[segments.daily] frequency: 'hourly' is not one of [web] frequencies",
        ),
    ],
)
def test_bad_audience_settings_are_one_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_config(tmp_path, MINIMAL + line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert message in text and str(path) in text
    assert "\n" not in text


def test_audience_rules_are_not_taken_from_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[defaults]\nfollows_any = ["ai"]\n' + MINIMAL)
    with pytest.raises(ConfigError, match=r"unknown setting \[defaults\] 'follows_any'"):
        load_config(path)


def test_a_config_error_reaches_the_cli_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, MINIMAL + 'status = ["actve"]\n')
    with pytest.raises(SystemExit) as exited:
        main(["segments", "--config", str(path)])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert (
        err == f"error: {path} [segments.daily] status: 'actve' is not one of pending, "
        "active, unsubscribed, bounced, complained\n"
    )
