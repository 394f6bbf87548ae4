"""The SendGrid webhook against hostile input: no answer is ever a 5xx, and one bad event
never rolls back the others (a bounce in the same batch always lands)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from webtools import Site, add_subscriber, events_body

from subscribers.importer import email_hash
from subscribers.models import Status, Subscriber, Suppression

HOOK = "/webhooks/sendgrid"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
KINDS = ["bounce", "dropped", "open", "click", "spamreport", "unsubscribe", "group_unsubscribe"]
NASTY_NUMBERS = [10**30, 2**63, 2**63 - 1, 2**31, 2**31 - 1, -1, 0, -(2**63) - 1]
NASTY_TEXT = ["²", "17964\xb9", "1" * 5000, " 12", "12\n", "1e3", "0x10", "\x00", "\ud800", ""]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(NASTY_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {"event": st.sampled_from(KINDS) | st.text(max_size=12) | json_values},
    optional={
        "email": st.emails() | st.text(max_size=40) | json_values,
        "edition": json_values,
        "sg_event_id": st.text(max_size=120) | json_values,
        "type": st.sampled_from(["bounce", "blocked"]) | json_values,
        "reason": st.sampled_from(["Bounced Address", "Invalid"]) | json_values,
        "url": st.text(max_size=60) | json_values,
        "sg_machine_open": json_values,
        "timestamp": json_values,
        "category": json_values,
    },
)
batch_items = st.lists(events | json_values, max_size=8)
nasty_stamps = st.sampled_from([s.encode("latin-1", "replace") for s in NASTY_TEXT])
header_bytes = st.binary(max_size=40).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)


def suppressed(site: Site, address: str) -> bool:
    with site.store.session() as session:
        return session.get(Suppression, email_hash(address)) is not None


def bounce(address: str) -> dict[str, Any]:
    return {
        "email": address,
        "timestamp": int(time.time()),
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": "bounce-" + uuid.uuid4().hex,
    }


def signed_post(site: Site, body: bytes) -> Any:
    headers = site.signer.headers(body, int(site.clock().timestamp()))
    return site.client.post(HOOK, content=body, headers=headers)


@pytest.mark.parametrize("edition", [10**30, 2**63, "²", "17964\xb9", "1" * 5000, -5, 1.5])
def test_an_unusable_edition_is_skipped_and_the_bounce_beside_it_lands(
    site: Site, edition: Any
) -> None:
    add_subscriber(site.store, "kept@example.org")
    add_subscriber(site.store, "bounced@example.org")
    batch = [
        {"event": "open", "email": "kept@example.org", "sg_event_id": "o1", "edition": edition},
        {"event": "click", "email": "kept@example.org", "sg_event_id": "c1", "edition": edition,
         "url": "https://civicwire.example/"},
        bounce("bounced@example.org"),
    ]  # fmt: skip
    response = signed_post(site, events_body(*batch))
    assert response.status_code == 200
    assert response.json() == {
        "received": 3,
        "applied": 1,
        "duplicates": 0,
        "ignored": 0,
        "malformed": 2,
    }
    with site.store.session() as session:
        statuses = {e: s for e, s in session.execute(select(Subscriber.email, Subscriber.status))}
    assert statuses["bounced@example.org"] == Status.bounced
    assert statuses["kept@example.org"] == Status.active
    again = signed_post(site, events_body(*batch))  # the bounce is kept, not re-applied
    assert again.json()["duplicates"] == 1 and again.json()["malformed"] == 2


@pytest.mark.parametrize("stamp", [b"\xb2", b"17964\xb9", b"1" * 5000, b"\xd9\xa1\xd9\xa2", b" 1"])
def test_a_timestamp_that_is_not_ascii_digits_gets_403(site: Site, stamp: bytes) -> None:
    body = events_body(bounce("stamp@example.org"))
    headers = {**site.signer.headers(body), TIMESTAMP: stamp}  # type: ignore[dict-item]
    response = site.client.post(HOOK, content=body, headers=headers)
    assert response.status_code == 403
    assert "whole seconds" in response.json()["error"]
    assert not suppressed(site, "stamp@example.org")


def test_a_content_length_that_is_not_ascii_digits_is_no_500(site: Site) -> None:
    body = events_body(bounce("length@example.org"))
    for declared in (b"\xb2", b"9" * 5000):
        headers = {**site.signer.headers(body), "content-length": declared}
        response = site.client.post(HOOK, content=body, headers=headers)  # type: ignore[arg-type]
        assert response.status_code < 500


def test_json_nested_too_deeply_is_a_400(site: Site) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert signed_post(site, body).status_code == 400


@FUZZ
@given(items=batch_items, where=st.integers(min_value=0, max_value=8))
def test_any_signed_batch_is_answered_and_its_valid_bounce_lands(
    site: Site, items: list[Any], where: int
) -> None:
    address = f"fuzz-{uuid.uuid4().hex[:12]}@example.org"
    items.insert(min(where, len(items)), bounce(address))
    body = json.dumps(items).encode("utf-8")
    response = signed_post(site, body)
    assert response.status_code == 200, response.text
    tally = response.json()
    assert tally["received"] == len(items)
    assert sum(tally[k] for k in ("applied", "duplicates", "ignored", "malformed")) == len(items)
    assert suppressed(site, address)


@FUZZ
@given(
    body=st.binary(max_size=200) | batch_items.map(lambda b: json.dumps(b).encode("utf-8")),
    sign=st.booleans(),
    stamp=st.none() | header_bytes | nasty_stamps,
    signature=st.none() | header_bytes,
    content_type=st.none() | header_bytes,
)  # fmt: skip
def test_no_request_gets_a_5xx(
    site: Site,
    body: bytes,
    sign: bool,
    stamp: bytes | None,
    signature: bytes | None,
    content_type: bytes | None,
) -> None:
    headers: dict[str, bytes | str] = dict(site.signer.headers(body)) if sign else {}
    for name, value in ((TIMESTAMP, stamp), (SIGNATURE, signature)):
        if value is not None:
            headers[name] = value
    if content_type is not None:
        headers["content-type"] = content_type
    response = site.client.post(HOOK, content=body, headers=headers)
    assert response.status_code < 500, response.text
