"""The SendGrid backend: one request per batch, per-recipient values as substitutions."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from digest.deliver.backend import BatchOutcome
from digest.deliver.message import ONE_CLICK, Outgoing, Recipient
from digest.errors import DeliveryError
from digest.settings import Secret, SendGridSettings

RETRIES = 4
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# The key or the sender identity is wrong, not these recipients: stop, keep them pending.
UNAUTHORISED = frozenset({401, 403})


def request_body(outgoing: Outgoing, recipients: Sequence[Recipient], batch: int) -> dict[str, Any]:
    """The /v3/mail/send body: one content for all, one personalization per recipient."""
    rendered = outgoing.rendered
    sender: dict[str, str] = {"email": outgoing.from_email}
    if outgoing.from_name:
        sender["name"] = outgoing.from_name
    body: dict[str, Any] = {
        "from": sender,
        "subject": rendered.subject,
        "content": [
            {"type": "text/plain", "value": rendered.text},
            {"type": "text/html", "value": rendered.html},
        ],
        "personalizations": [
            {
                "to": [{"email": r.email, **({"name": r.name} if r.name else {})}],
                "substitutions": r.values(),
                "headers": {
                    "List-Unsubscribe": r.list_unsubscribe,
                    "List-Unsubscribe-Post": ONE_CLICK,
                },
                "custom_args": {"delivery": str(r.delivery_id)},
            }
            for r in recipients
        ],
        "headers": {"List-Id": outgoing.list_id},
        "categories": ["digest", outgoing.segment[:255]],
        "custom_args": {
            "edition": str(outgoing.edition_id),
            "segment": outgoing.segment,
            "batch": str(batch),
        },
    }
    if outgoing.reply_to:
        body["reply_to"] = {"email": outgoing.reply_to}
    return body


class SendGridBackend:
    name = "sendgrid"

    def __init__(self, settings: SendGridSettings, api_key: Secret, host: str = "") -> None:
        if not api_key:
            raise DeliveryError(
                "SENDGRID_API_KEY is not set; export it to use the sendgrid backend"
            )
        self.client = SendGridAPIClient(api_key.reveal(), host=host or settings.host)
        self.client.client.timeout = settings.timeout

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        body = request_body(outgoing, recipients, batch)
        last_error = ""
        for attempt in range(RETRIES):
            try:
                response = self.client.send(body)
            except HTTPError as e:
                status = int(getattr(e, "status_code", 0))
                last_error = f"SendGrid answered {status}: {_message(e)}"
                if status in UNAUTHORISED:
                    raise DeliveryError(
                        f"{last_error}; check SENDGRID_API_KEY and the verified sender"
                    ) from e
                if status not in RETRYABLE:
                    raise DeliveryError(last_error, permanent=True) from e
                time.sleep(_backoff(attempt, getattr(e, "headers", None)))
                continue
            except (TimeoutError, OSError) as e:
                last_error = f"SendGrid did not answer ({type(e).__name__})"
                time.sleep(_backoff(attempt, None))
                continue
            ident = str(response.headers.get("X-Message-Id", ""))
            return BatchOutcome(accepted={r.delivery_id: ident for r in recipients})
        raise DeliveryError(last_error or "SendGrid kept failing")

    def close(self) -> None:
        return None


def _message(error: HTTPError) -> str:
    try:
        errors = json.loads(error.body)["errors"]
        return "; ".join(
            f"{e.get('message')}" + (f" (field {e['field']})" if e.get("field") else "")
            for e in errors
        )
    except (ValueError, KeyError, TypeError):
        return str(getattr(error, "reason", "error"))


def _backoff(attempt: int, headers: Any) -> float:
    """Seconds to wait: until X-RateLimit-Reset when given, else exponential with jitter."""
    raw = headers.get("X-RateLimit-Reset") if headers is not None else None
    try:
        reset = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        reset = None
    if reset is not None:
        return min(60.0, max(0.0, reset - time.time()))
    delay: float = min(30.0, 0.25 * 2.0**attempt)
    return delay * random.uniform(0.5, 1.5)
