"""A local stand-in for SendGrid's v3 Mail Send API, for tests and benchmarks.

Point the official library at it::

    with SendGridStandIn() as standin:
        client = SendGridAPIClient("SG.test", host=standin.url)
        client.client.timeout = 5
        client.send(mail)
        assert standin.recipients() == ["ada@example.com"]

Each ``POST /v3/mail/send`` is checked as SendGrid checks it: a bearer key, a JSON body
valid against the request schema in SendGrid's own OpenAPI document
(``sendgrid_spec/tsg_mail_v3.json``), then SendGrid's documented limits. A valid request gets
202 with an ``X-Message-Id`` header and is recorded; any other gets SendGrid's error
shape ``{"errors": [{"message", "field", "help"}]}``. Faults (429, 5xx, slow answers,
timeouts, dropped connections) can be injected at random or on demand, and every answer
can be delayed by a random latency.
"""

from __future__ import annotations

import functools
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("sendgrid_spec") / "tsg_mail_v3.json"
SPEC_URI = "urn:sendgrid:tsg_mail_v3"
SEND_PATH = "/v3/mail/send"

# The schema itself caps personalizations (1000) and categories (10, of 255 characters).
MAX_BODY_BYTES = 30_000_000
MAX_RECIPIENTS = 1000  # to + cc + bcc over all personalizations
MAX_ARGS_BYTES = 10_000  # custom_args and substitutions, JSON-encoded
MAX_SCHEDULE_SECONDS = 72 * 3600
RATE_LIMIT = 600  # SendGrid publishes no number for mail/send; any value will do

FAULT_KINDS = ("429", "500", "503", "slow", "timeout", "drop")
_FAULT_MESSAGES = {
    "429": "too many requests",
    "500": "internal server error",
    "503": "service unavailable",
}

Problem = tuple[str, str | None]  # (message, field)


@dataclass(frozen=True)
class AcceptedRequest:
    """One request answered 202. Header names are lower-cased."""

    message_id: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FaultPlan:
    """Fail a share ``rate`` of requests with a kind drawn from ``kinds``.

    ``"slow"`` handles the request at once (a valid one is recorded as accepted) but
    answers only after ``slow_seconds``: the in-doubt case of a client that timed out
    on a send the provider took. ``"timeout"`` holds the request for ``slow_seconds``
    too, then closes the connection without taking it: a gateway that timed out before
    the provider saw the mail. ``"drop"`` closes the connection at once without answering.
    Give ``slow_seconds`` above the client's timeout for either to time the client out.
    Draws come from ``random.Random(seed)``; assign a new plan to restart the sequence.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_seconds: float = 2.0
    rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"FaultPlan rate must be between 0 and 1, not {self.rate}")
        for kind in self.kinds:
            _check_kind(kind)
        if self.rate and not self.kinds:
            raise ValueError("FaultPlan with a rate above 0 needs at least one kind")
        self.rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """The fault for the next request, or None to serve it normally."""
        if self.rate and self.rng.random() < self.rate:
            return self.rng.choice(self.kinds)
        return None


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class SendGridStandIn:
    """An HTTP server on 127.0.0.1 that answers like SendGrid's ``/v3/mail/send``.

    ``validate=False`` skips the schema and limit checks and keeps only counts
    (``accepted_count``, ``recipient_count``), not bodies, so memory stays flat.
    ``latency=(low, high)`` delays every answer by a uniform draw from that range (from
    ``random.Random(seed)``), after a valid request was recorded: a client stopped in
    that pause leaves a batch the provider took but the client never heard of.
    """

    def __init__(
        self,
        *,
        validate: bool = True,
        faults: FaultPlan | None = None,
        latency: tuple[float, float] = (0.0, 0.0),
        seed: int = 0,
    ) -> None:
        low, high = latency
        if not 0.0 <= low <= high:
            raise ValueError(f"latency must be (low, high) with 0 <= low <= high, not {latency}")
        self.validate = validate
        self.faults = faults or FaultPlan()
        self.latency = latency
        self._latency_rng = random.Random(seed)
        self._request_count = 0
        self._lock = threading.Lock()
        self._accepted: list[AcceptedRequest] = []
        self._rejected: list[tuple[int, dict[str, Any]]] = []
        self._accepted_count = 0
        self._recipient_count = 0
        self._forced: deque[str] = deque()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sendgrid-standin", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()  # wakes handlers sleeping on a "slow" fault
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def url(self) -> str:
        """The ``host=`` to give ``SendGridAPIClient``."""
        if self._server is None:
            raise RuntimeError("SendGridStandIn is not running: use it in a with block")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def accepted(self) -> list[AcceptedRequest]:
        """Requests answered 202, oldest first (empty when ``validate=False``)."""
        with self._lock:
            return list(self._accepted)

    @property
    def rejected(self) -> list[tuple[int, dict[str, Any]]]:
        """(status, error body) of every error answer, injected faults included."""
        with self._lock:
            return list(self._rejected)

    @property
    def request_count(self) -> int:
        """Mail sends received so far, whatever became of them."""
        with self._lock:
            return self._request_count

    @property
    def accepted_count(self) -> int:
        with self._lock:
            return self._accepted_count

    @property
    def recipient_count(self) -> int:
        """Recipients (to + cc + bcc) over all accepted requests."""
        with self._lock:
            return self._recipient_count

    def recipients(self) -> list[str]:
        """Every accepted to-address, in order, with repeats."""
        with self._lock:
            return [
                to["email"]
                for request in self._accepted
                for personalization in request.body["personalizations"]
                for to in personalization["to"]
            ]

    def fail_next(self, n: int, kind: str) -> None:
        """Fail exactly the next ``n`` mail sends with ``kind`` (before any random fault)."""
        _check_kind(kind)
        if n < 0:
            raise ValueError(f"fail_next needs n >= 0, not {n}")
        with self._lock:
            self._forced.extend([kind] * n)

    def _respond(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> _Reply | None:
        """The answer to one request, or None to drop the connection."""
        if urlsplit(path).path.rstrip("/") != SEND_PATH:
            return self._refuse(404, [("not found", None)])
        if method != "POST":
            return self._refuse(405, [("method not allowed", None)])
        with self._lock:
            self._request_count += 1
            fault = self._forced.popleft() if self._forced else self.faults.draw()
            pause = self._latency_rng.uniform(*self.latency) if self.latency[1] else 0.0
        if fault == "drop":
            return None
        if fault == "timeout":
            self._closing.wait(self.faults.slow_seconds)
            return None
        if fault in _FAULT_MESSAGES:
            return self._fault(fault)
        reply = self._send(headers, raw)
        if fault == "slow":
            self._closing.wait(self.faults.slow_seconds)
        elif pause:
            self._closing.wait(pause)
        return reply

    def _send(self, headers: dict[str, str], raw: bytes) -> _Reply:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        # "Bearer None" is what the library sends when it was given no key.
        if scheme.lower() != "bearer" or key.strip() in ("", "None"):
            return self._refuse(401, [("authorization required", None)])
        if len(raw) >= MAX_BODY_BYTES:
            return self._refuse(413, [("content too large", None)])
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(400, [("Bad Request", None)])
        if not isinstance(body, dict):
            return self._refuse(400, [("The request body must be a JSON object.", None)])
        if self.validate:
            problems = _schema_problems(body) or _limit_problems(body, time.time())
            if problems:
                return self._refuse(400, problems)
        return self._accept(body, headers)

    def _accept(self, body: dict[str, Any], headers: dict[str, str]) -> _Reply:
        message_id = secrets.token_urlsafe(16)
        recipients = sum(
            len(personalization.get(kind) or [])
            for personalization in body.get("personalizations") or []
            for kind in ("to", "cc", "bcc")
        )
        with self._lock:
            self._accepted_count += 1
            self._recipient_count += recipients
            if self.validate:
                self._accepted.append(AcceptedRequest(message_id, body, headers))
        return _Reply(202, headers={"X-Message-Id": message_id})

    def _fault(self, kind: str) -> _Reply:
        headers: dict[str, str] = {}
        if kind == "429":
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + 1),
            }
        return self._refuse(int(kind), [(_FAULT_MESSAGES[kind], None)], headers)

    def _refuse(
        self, status: int, problems: list[Problem], headers: dict[str, str] | None = None
    ) -> _Reply:
        body = {"errors": [{"message": m, "field": f, "help": None} for m, f in problems]}
        with self._lock:
            self._rejected.append((status, body))
        return _Reply(status, body, headers or {})


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops bursts of connects: a 1 s SYN retry

    def __init__(self, standin: SendGridStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client gave up (timeout, dropped connection): expected here
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.standin._respond(self.command, self.path, headers, raw)
        if reply is None:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Print nothing: tests read what happened from the stand-in's records."""


@functools.cache
def _validator() -> Draft202012Validator:
    """The validator for the /v3/mail/send body, built once per process.

    OpenAPI 3.1 schemas are JSON Schema 2020-12. The whole document is registered as one
    resource, so the body schema's ``#/components/schemas/...`` refs resolve within it.
    """
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    request_body = spec["paths"][SEND_PATH]["post"]["requestBody"]["$ref"]  # "#/components/..."
    pointer = f"{request_body}/content/application~1json/schema"
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    body_schema = registry.resolver(SPEC_URI).lookup(pointer).contents
    # The spec types the message-level custom_args as a string; the library and the live
    # API send an object of strings. Accept both (this edits the in-memory copy only).
    properties = body_schema["properties"]
    properties["custom_args"] = {
        "anyOf": [
            properties["custom_args"],
            {"type": "object", "additionalProperties": {"type": "string"}},
        ]
    }
    return Draft202012Validator(
        {"$ref": SPEC_URI + pointer},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _schema_problems(body: dict[str, Any]) -> list[Problem]:
    return [(error.message, _field(error)) for error in _validator().iter_errors(body)]


def _field(error: ValidationError) -> str | None:
    """SendGrid-style field name: ``personalizations.0.to``; a missing key is named."""
    path = [str(part) for part in error.absolute_path]
    required, instance = error.validator_value, error.instance
    if error.validator == "required" and isinstance(required, list) and isinstance(instance, dict):
        missing = [key for key in required if key not in instance]
        path += missing[:1]
    return ".".join(path) or None


def _limit_problems(body: dict[str, Any], now: float) -> list[Problem]:
    """SendGrid's documented rules that the schema does not express."""
    problems: list[Problem] = []
    personalizations: list[dict[str, Any]] = body["personalizations"]
    if not personalizations:
        problems.append(("At least one personalization is required.", "personalizations"))
    seen: set[str] = set()
    recipients = 0
    for i, personalization in enumerate(personalizations):
        where = f"personalizations.{i}"
        if not personalization["to"]:
            problems.append(("The to array must have at least one email object.", f"{where}.to"))
        for kind in ("to", "cc", "bcc"):
            for address in personalization.get(kind, []):
                recipients += 1
                email = address["email"].lower()
                if email in seen:
                    problems.append(
                        (
                            "Each email address may appear only once in a request; "
                            f"{address['email']} is repeated.",
                            f"{where}.{kind}",
                        )
                    )
                seen.add(email)
        for name in ("custom_args", "substitutions"):
            problems += _size_problems(personalization, name, f"{where}.{name}")
        problems += _send_at_problems(personalization, f"{where}.send_at", now)
    if recipients > MAX_RECIPIENTS:
        problems.append(
            (
                f"A request may have at most {MAX_RECIPIENTS} recipients (to, cc and bcc); "
                f"this one has {recipients}.",
                "personalizations",
            )
        )
    problems += _size_problems(body, "custom_args", "custom_args")
    problems += _header_problems(body.get("headers", {}), "headers")
    for i, personalization in enumerate(personalizations):
        where = f"personalizations.{i}.headers"
        problems += _header_problems(personalization.get("headers", {}), where)
    problems += _send_at_problems(body, "send_at", now)
    return problems + _content_problems(body)


@functools.cache
def reserved_headers() -> frozenset[str]:
    """The headers SendGrid will not let a request set, lower-cased, as its own document
    lists them in the description of ``headers`` ("You may not override the following
    headers: `x-sg-id`, ...")."""
    text = SPEC_PATH.read_text(encoding="utf-8")
    found = re.search(r"You may not override the following headers: ([^.\"]*)\.", text)
    assert found, "the spec no longer lists SendGrid's reserved headers"
    return frozenset(name.lower() for name in re.findall(r"`([^`]+)`", found.group(1)))


def _header_problems(headers: dict[str, Any], where: str) -> list[Problem]:
    """SendGrid refuses a reserved header, and any value that is not a string."""
    problems: list[Problem] = []
    for name, value in headers.items():
        if name.lower() in reserved_headers():
            problems.append((f"The header {name} is reserved and may not be set.", where))
        elif not isinstance(value, str):
            problems.append((f"The value of the header {name} must be a string.", where))
    return problems


def _size_problems(holder: dict[str, Any], name: str, where: str) -> list[Problem]:
    if name not in holder:
        return []
    size = len(json.dumps(holder[name], separators=(",", ":"), ensure_ascii=False).encode())
    if size <= MAX_ARGS_BYTES:
        return []
    return [(f"{name} may not exceed {MAX_ARGS_BYTES} bytes; this one has {size}.", where)]


def _send_at_problems(holder: dict[str, Any], where: str, now: float) -> list[Problem]:
    if holder.get("send_at", 0) <= now + MAX_SCHEDULE_SECONDS:
        return []
    return [("A send cannot be scheduled more than 72 hours in advance.", where)]


def _content_problems(body: dict[str, Any]) -> list[Problem]:
    templated = "template_id" in body
    types = [content["type"].lower() for content in body.get("content", [])]
    problems: list[Problem] = []
    if not types and not templated:
        problems.append(("Unless a template_id is provided, content is required.", "content"))
    expected = [kind for kind in ("text/plain", "text/html") if kind in types]
    if types[: len(expected)] != expected:
        problems.append(
            (
                "If present, text/plain and text/html must be the first content types, "
                "in that order.",
                "content",
            )
        )
    subjects = [p.get("subject") for p in body["personalizations"]]
    if not (templated or body.get("subject") or (subjects and all(subjects))):
        problems.append(
            (
                "The subject is required unless every personalization has one "
                "or a template provides it.",
                "subject",
            )
        )
    return problems
