"""The SendGrid stand-in, driven through the official sendgrid library."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.error import URLError

import pytest
from python_http_client.exceptions import (
    BadRequestsError,
    InternalServerError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Category,
    Content,
    CustomArg,
    Header,
    Mail,
    Personalization,
    Substitution,
    To,
)
from sendgrid_standin import FaultPlan, SendGridStandIn


@pytest.fixture
def standin() -> Iterator[SendGridStandIn]:
    with SendGridStandIn() as running:
        yield running


def client(
    standin: SendGridStandIn, key: str = "SG.test-key", timeout: float = 5.0
) -> SendGridAPIClient:
    sg = SendGridAPIClient(key, host=standin.url)
    sg.client.timeout = timeout  # the library has no timeout by default
    return sg


def newsletter(*addresses: str) -> Mail:
    """A Digest-shaped message: one personalization per reader, values by substitution."""
    mail = Mail(from_email="digest@example.com", subject="Your digest, -name-")
    mail.add_content(Content("text/plain", "Hello -name-"))
    mail.add_content(Content("text/html", "<p>Hello -name-</p>"))
    mail.add_header(Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    mail.add_category(Category("digest"))
    mail.add_custom_arg(CustomArg("edition", "2024-06-01"))
    for index, address in enumerate(addresses):
        personalization = Personalization()
        personalization.add_to(To(address))
        personalization.add_substitution(Substitution("-name-", address.split("@")[0]))
        mail.add_personalization(personalization, index=index)  # append, keep order
    return mail


def body(*addresses: str) -> dict[str, Any]:
    """The JSON the library sends for ``newsletter``, to bend into invalid requests."""
    message: dict[str, Any] = newsletter(*addresses).get()
    return message


def refused(standin: SendGridStandIn, message: dict[str, Any] | Mail) -> list[str | None]:
    """Send a request that must be refused 400; the fields its errors name."""
    accepted = standin.accepted_count
    with pytest.raises(BadRequestsError) as refusal:
        client(standin).send(message)
    errors = refusal.value.to_dict["errors"]
    assert all(set(error) == {"message", "field", "help"} for error in errors)
    assert standin.accepted_count == accepted
    return [error["field"] for error in errors]


def test_valid_newsletter_is_accepted_and_recorded(standin: SendGridStandIn) -> None:
    response = client(standin).send(newsletter("ada@example.com", "grace@example.com"))

    assert response.status_code == 202
    assert response.body == b""
    [record] = standin.accepted
    assert response.headers["X-Message-Id"] == record.message_id
    assert record.headers["authorization"] == "Bearer SG.test-key"
    assert record.body["custom_args"] == {"edition": "2024-06-01"}
    substitutions = [p["substitutions"] for p in record.body["personalizations"]]
    assert substitutions == [{"-name-": "ada"}, {"-name-": "grace"}]
    assert standin.recipients() == ["ada@example.com", "grace@example.com"]
    assert standin.recipient_count == 2
    assert standin.rejected == []


def test_every_accepted_request_gets_its_own_message_id(standin: SendGridStandIn) -> None:
    sg = client(standin)
    ids = {sg.send(newsletter("ada@example.com")).headers["X-Message-Id"] for _ in range(5)}
    assert len(ids) == 5
    assert standin.recipients() == ["ada@example.com"] * 5


def test_the_specs_string_custom_args_is_accepted_too(standin: SendGridStandIn) -> None:
    message = body("ada@example.com")
    message["custom_args"] = "edition-2024-06-01"
    assert client(standin).send(message).status_code == 202


def test_1000_personalizations_pass_and_1001_are_refused(standin: SendGridStandIn) -> None:
    readers = [f"reader{i}@example.com" for i in range(1001)]
    assert client(standin).send(newsletter(*readers[:1000])).status_code == 202
    assert refused(standin, newsletter(*readers)) == ["personalizations"]


def test_more_than_1000_recipients_in_one_request_are_refused(standin: SendGridStandIn) -> None:
    message = body("reader0@example.com")
    message["personalizations"][0]["to"] = [
        {"email": f"reader{i}@example.com"} for i in range(1001)
    ]
    assert refused(standin, message) == ["personalizations"]


def test_an_address_twice_in_one_request_is_refused(standin: SendGridStandIn) -> None:
    message = newsletter("ada@example.com", "Ada@Example.COM")
    assert refused(standin, message) == ["personalizations.1.to"]


@pytest.mark.parametrize("key", [" ", ""], ids=["blank key", "no key (sent as None)"])
def test_a_request_without_a_key_is_refused_401(
    standin: SendGridStandIn, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    with pytest.raises(UnauthorizedError) as refusal:
        client(standin, key=key).send(newsletter("ada@example.com"))
    assert refusal.value.to_dict == {
        "errors": [{"message": "authorization required", "field": None, "help": None}]
    }
    assert standin.rejected == [(401, refusal.value.to_dict)]


def test_a_body_of_30_mb_is_refused_413(standin: SendGridStandIn) -> None:
    message = body("ada@example.com")
    message["attachments"] = [{"content": "A" * 30_000_000, "filename": "big.bin"}]
    with pytest.raises(PayloadTooLargeError):
        client(standin).send(message)
    assert standin.accepted == []


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda message: message.update({key: value})


def _set_in_first_personalization(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda message: message["personalizations"][0].update({key: value})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(lambda m: m.pop("from"), "from", id="no from"),
        pytest.param(
            _set("categories", [f"c{i}" for i in range(11)]), "categories", id="11 categories"
        ),
        pytest.param(_set("categories", ["x" * 256]), "categories.0", id="256-character category"),
        pytest.param(
            _set("custom_args", {"k": "x" * 10_000}), "custom_args", id="custom_args 10 kB"
        ),
        pytest.param(
            _set_in_first_personalization("custom_args", {"k": "x" * 10_000}),
            "personalizations.0.custom_args",
            id="personalization custom_args 10 kB",
        ),
        pytest.param(
            _set_in_first_personalization("substitutions", {"-name-": "x" * 10_000}),
            "personalizations.0.substitutions",
            id="substitutions 10 kB",
        ),
        pytest.param(_set("send_at", int(time.time()) + 73 * 3600), "send_at", id="send_at 73 h"),
        pytest.param(lambda m: m["content"].reverse(), "content", id="text/html before text/plain"),
        pytest.param(
            _set_in_first_personalization("to", [{"email": "ada.example.com"}]),
            "personalizations.0.to.0.email",
            id="address without @",
        ),
    ],
)
def test_requests_sendgrid_would_refuse_are_refused_400(
    standin: SendGridStandIn, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    message = body("ada@example.com")
    change(message)
    assert refused(standin, message) == [field]


def test_429_carries_rate_limit_headers_then_the_next_send_succeeds(
    standin: SendGridStandIn,
) -> None:
    sg = client(standin)
    standin.fail_next(1, "429")
    with pytest.raises(TooManyRequestsError) as refusal:
        sg.send(newsletter("ada@example.com"))

    headers = refusal.value.headers
    assert headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Limit"]) > 0
    assert time.time() < int(headers["X-RateLimit-Reset"]) <= time.time() + 2
    assert standin.accepted == []
    assert sg.send(newsletter("ada@example.com")).status_code == 202
    assert standin.recipients() == ["ada@example.com"]
    assert [status for status, _ in standin.rejected] == [429]


@pytest.mark.parametrize(
    ("kind", "error"), [("500", InternalServerError), ("503", ServiceUnavailableError)]
)
def test_server_errors_are_not_accepted(
    standin: SendGridStandIn, kind: str, error: type[Exception]
) -> None:
    standin.fail_next(1, kind)
    with pytest.raises(error):
        client(standin).send(newsletter("ada@example.com"))
    assert standin.accepted == []


def test_a_slow_answer_times_out_the_client_yet_the_mail_was_accepted(
    standin: SendGridStandIn,
) -> None:
    standin.fail_next(1, "slow")
    with pytest.raises((TimeoutError, URLError)):
        client(standin, timeout=0.5).send(newsletter("ada@example.com"))
    assert standin.recipients() == ["ada@example.com"]


def test_a_dropped_connection_raises_and_records_nothing(standin: SendGridStandIn) -> None:
    standin.fail_next(1, "drop")
    with pytest.raises(OSError):  # http.client.RemoteDisconnected, a ConnectionResetError
        client(standin).send(newsletter("ada@example.com"))
    assert standin.accepted == []
    assert standin.rejected == []
    assert client(standin).send(newsletter("ada@example.com")).status_code == 202


def test_a_timeout_holds_the_request_past_the_client_then_drops_it_unaccepted() -> None:
    with SendGridStandIn(faults=FaultPlan(slow_seconds=0.6)) as standin:
        standin.fail_next(1, "timeout")
        began = time.monotonic()
        with pytest.raises((TimeoutError, URLError)):
            client(standin, timeout=0.2).send(newsletter("ada@example.com"))
        assert time.monotonic() - began < 0.5  # the client gave up; the stand-in held on
        assert (standin.request_count, standin.accepted_count, standin.rejected) == (1, 0, [])
        assert client(standin).send(newsletter("ada@example.com")).status_code == 202
        assert standin.recipients() == ["ada@example.com"]


def test_latency_delays_each_answer_after_the_mail_was_taken() -> None:
    with SendGridStandIn(latency=(0.2, 0.3)) as standin:
        began = time.monotonic()
        assert client(standin).send(newsletter("ada@example.com")).status_code == 202
        assert 0.2 <= time.monotonic() - began < 2.0
        with pytest.raises((TimeoutError, URLError)):  # stopped in the pause: yet it was taken
            client(standin, timeout=0.1).send(newsletter("grace@example.com"))
        assert standin.recipients() == ["ada@example.com", "grace@example.com"]
    with pytest.raises(ValueError, match="latency"):
        SendGridStandIn(latency=(0.3, 0.2))


def test_random_faults_repeat_for_the_same_seed() -> None:
    def outcomes() -> list[int]:
        plan = FaultPlan(rate=0.5, kinds=("500", "503"), seed=7)
        with SendGridStandIn(faults=plan) as standin:
            sg = client(standin)
            statuses = []
            for _ in range(12):
                try:
                    statuses.append(sg.send(newsletter("ada@example.com")).status_code)
                except (InternalServerError, ServiceUnavailableError) as error:
                    statuses.append(error.status_code)
            assert standin.accepted_count == statuses.count(202)
            return statuses

    first = outcomes()
    assert first == outcomes()
    assert {202, 500, 503} <= set(first)


def test_fault_kinds_and_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="fault kind"):
        FaultPlan(rate=0.1, kinds=("404",))
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)
    with SendGridStandIn() as standin, pytest.raises(ValueError, match="fault kind"):
        standin.fail_next(1, "hang")


def test_without_validation_only_counts_are_kept() -> None:
    with SendGridStandIn(validate=False) as standin:
        sg = client(standin)
        sg.send(newsletter("ada@example.com", "grace@example.com", "ada@example.com"))
        sg.send(newsletter("linus@example.com"))

        assert standin.recipient_count == 4
        assert standin.accepted_count == 2
        assert standin.accepted == []


def test_concurrent_clients_are_all_recorded(standin: SendGridStandIn) -> None:
    def send_five(reader: int) -> None:
        sg = client(standin)  # one client per thread: the library's is not thread-safe
        for _ in range(5):
            sg.send(newsletter(f"reader{reader}@example.com"))

    threads = [threading.Thread(target=send_five, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(standin.recipients()) == standin.recipient_count == 40
    assert len({record.message_id for record in standin.accepted}) == 40
