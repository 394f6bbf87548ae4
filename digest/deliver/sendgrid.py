"""The SendGrid backend: one request per batch, per-recipient values as substitutions."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from digest.deliver.message import ONE_CLICK, Outgoing, Recipient
from digest.deliver.protocol import BatchOutcome
from digest.errors import DeliveryError
from digest.render.email import one_line
from digest.render.placeholders import Part, Placeholders, escape
from digest.settings import Secret, SendGridSettings

RETRYABLE = frozenset({429, 500, 502, 503, 504})
# The key or the sender identity is wrong, not these recipients: stop, keep them pending.
UNAUTHORISED = frozenset({401, 403})


# The body is written as JSON text here rather than built as dicts for the library to
# serialise: a batch is a thousand personalizations, and this is the hot path. Every
# string goes through the encoder json.dumps itself uses, so the text is the same JSON.
_json = json.encoder.encode_basestring_ascii
# A Content-Type other than exactly "application/json" makes python_http_client send
# the body as given instead of passing it to json.dumps again; this is the same type.
JSON_TYPE = "application/json; charset=utf-8"
_ONE_CLICK = _json(ONE_CLICK)


class _Payload(bytes):
    """A request body that formats as its size.

    python_http_client formats every payload into a debug message whether or not
    debug logging is on; for a batch that is a repr of some 800 KB per request.
    """

    def __format__(self, spec: str) -> str:
        return f"<{len(self)} bytes>"


class _Body(str):
    """The JSON text of a request, which python_http_client encodes into a ``_Payload``."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return _Payload(str.encode(self, encoding, errors))


def request_json(outgoing: Outgoing, recipients: Sequence[Recipient], batch: int) -> str:
    """The /v3/mail/send body: one content for all, one personalization per recipient."""
    rendered = outgoing.rendered
    sender: dict[str, str] = {"email": outgoing.from_email}
    if outgoing.from_name:
        sender["name"] = outgoing.from_name
    shared: dict[str, Any] = {
        "from": sender,
        "subject": rendered.subject,
        "content": [
            {"type": "text/plain", "value": rendered.text},
            {"type": "text/html", "value": rendered.html},
        ],
        "headers": outgoing.headers(),
        "categories": ["digest", outgoing.segment[:255]],
        "custom_args": {
            "edition": str(outgoing.edition_id),
            "segment": outgoing.segment,
            "batch": str(batch),
        },
    }
    if outgoing.reply_to:
        shared["reply_to"] = {"email": outgoing.reply_to}
    keys = _Substitutions(rendered.placeholders)
    people = ",".join(_personalization(r, keys) for r in recipients)
    return json.dumps(shared)[:-1] + f',"personalizations":[{people}]}}'


class _Substitutions:
    """The substitution keys of one render, each with its key and its part, JSON-encoded
    once: the values are written out per recipient, the hot path of a batch.

    SendGrid puts a key's value wherever the key stands, in either part, so the text and
    the HTML part have keys of their own and each value is escaped for its part. A render
    stored before nonces shares its URL placeholders between the parts: those get the
    text part's value, as they always did.
    """

    def __init__(self, placeholders: Placeholders) -> None:
        parts: tuple[Part, ...] = ("html", "text")  # text last: it wins a shared key
        merged = {
            token: (key, part) for part in parts for token, key in placeholders.tokens(part).items()
        }
        self.keys = [(_json(token) + ":", key, part) for token, (key, part) in merged.items()]

    def json(self, values: dict[str, str]) -> str:
        return ",".join(
            prefix + _json(escape(values[key], part)) for prefix, key, part in self.keys
        )


def _personalization(r: Recipient, keys: _Substitutions) -> str:
    """One recipient's personalization: address, substitutions (the values of
    :meth:`Recipient.values`), the List-Unsubscribe header, and the ledger row's id."""
    to_name = one_line(r.name, 100)
    named = f',"name":{_json(to_name)}' if to_name else ""
    return (
        f'{{"to":[{{"email":{_json(r.email)}{named}}}],'
        f'"substitutions":{{{keys.json(r.values())}}},'
        f'"headers":{{"List-Unsubscribe":{_json(r.list_unsubscribe)},'
        f'"List-Unsubscribe-Post":{_ONE_CLICK}}},'
        f'"custom_args":{{"delivery":"{int(r.delivery_id)}"}}}}'
    )


class SendGridBackend:
    name = "sendgrid"
    idempotent = False

    def __init__(self, settings: SendGridSettings, api_key: Secret, host: str = "") -> None:
        if not api_key:
            raise DeliveryError(
                "SENDGRID_API_KEY is not set; export it to use the sendgrid backend"
            )
        self.client = SendGridAPIClient(api_key.reveal(), host=host or settings.host)
        self.client.client.timeout = settings.timeout
        self.retries = max(1, settings.retries)
        self.backoff = settings.backoff_seconds

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        """One request for the batch. When SendGrid refuses it for some personalizations
        only (a 400 naming ``personalizations.N``), those recipients fail with its message
        and the others go in a new request."""
        people = list(recipients)
        refused: dict[int, str] = {}
        doubtful = False
        while True:
            try:
                body = request_json(outgoing, people, batch)
                ident, doubtful = self._post(body, len(people), doubtful)
            except _RecipientsRefused as e:
                doubtful = e.doubtful
                refused.update((people[i].delivery_id, why) for i, why in e.reasons.items())
                people = [r for i, r in enumerate(people) if i not in e.reasons]
                if people:
                    continue
                return BatchOutcome(failed=refused, doubtful=doubtful)
            accepted = {r.delivery_id: ident for r in people}
            return BatchOutcome(accepted=accepted, failed=refused, doubtful=doubtful)

    def _post(self, body: str, people: int, doubtful: bool) -> tuple[str, bool]:
        """Send one request for ``people`` recipients, retrying what may pass later. Returns
        the message id, and whether a timed-out attempt may have been taken too."""
        last_error = ""
        for attempt in range(self.retries):
            try:
                response = self.client.client.mail.send.post(
                    request_body=_Body(body), request_headers={"Content-Type": JSON_TYPE}
                )
            except HTTPError as e:
                status = int(getattr(e, "status_code", 0))
                last_error = f"SendGrid answered {status}: {_message(e)}"
                if status in UNAUTHORISED:
                    raise DeliveryError(
                        f"{last_error}; check SENDGRID_API_KEY and the verified sender",
                        doubtful=doubtful,
                    ) from e
                reasons = _per_recipient(e, status, people) if status == 400 else {}
                if reasons:
                    raise _RecipientsRefused(reasons, doubtful) from e
                if status not in RETRYABLE:
                    raise DeliveryError(last_error, permanent=True, doubtful=doubtful) from e
                self._pause(attempt, getattr(e, "headers", None))
                continue
            except (TimeoutError, OSError) as e:
                # Refused before anything was sent: certainly not accepted. Anything else
                # (a timeout, a reset after the body went out) may have been accepted.
                doubtful = doubtful or not isinstance(_cause(e), ConnectionRefusedError)
                last_error = f"SendGrid did not answer ({type(_cause(e)).__name__})"
                self._pause(attempt, None)
                continue
            return str(response.headers.get("X-Message-Id", "")), doubtful
        raise DeliveryError(last_error or "SendGrid kept failing", doubtful=doubtful)

    def _pause(self, attempt: int, headers: Any) -> None:
        if attempt + 1 < self.retries:
            time.sleep(_backoff(attempt, headers, self.backoff))

    def close(self) -> None:
        return None


class _RecipientsRefused(Exception):
    """A request refused for some of its personalizations only: index → why."""

    def __init__(self, reasons: dict[int, str], doubtful: bool) -> None:
        super().__init__(f"{len(reasons)} recipients refused")
        self.reasons = reasons
        self.doubtful = doubtful


PERSONALIZATION = re.compile(r"personalizations\.(\d+)(?:\.|$)")


def _per_recipient(error: HTTPError, status: int, people: int) -> dict[int, str]:
    """Personalization index → SendGrid's complaint, when every error it listed names one
    of the request's ``people`` personalizations (the others are fine); else empty."""
    try:
        errors = json.loads(error.body)["errors"]
        found: dict[int, str] = {}
        for e in errors:
            field = str(e.get("field") or "")
            match = PERSONALIZATION.match(field)
            if match is None or int(match.group(1)) >= people:
                return {}
            reason = f"SendGrid answered {status}: {e.get('message')} (field {field})"
            found.setdefault(int(match.group(1)), reason)
        return found
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def _message(error: HTTPError) -> str:
    try:
        errors = json.loads(error.body)["errors"]
        return "; ".join(
            f"{e.get('message')}" + (f" (field {e['field']})" if e.get("field") else "")
            for e in errors
        )
    except (ValueError, KeyError, TypeError):
        return str(getattr(error, "reason", "error"))


def _cause(error: BaseException) -> BaseException:
    """The socket-level error under urllib's URLError wrapper."""
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, BaseException) else error


def _backoff(attempt: int, headers: Any, base: float) -> float:
    """Seconds to wait: until X-RateLimit-Reset when given, else exponential with jitter."""
    raw = headers.get("X-RateLimit-Reset") if headers is not None else None
    try:
        reset = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        reset = None
    if reset is not None:
        return min(60.0, max(0.0, reset - time.time()))
    delay: float = min(30.0, base * 2.0**attempt)
    return delay * random.uniform(0.5, 1.5)
