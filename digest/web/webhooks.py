"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook.

The signature is ECDSA P-256 over the timestamp header followed by the raw body; it is
checked with sendgrid's own helper on the body exactly as received (decoded, never
re-serialised). With a key configured, a post that is unsigned, badly signed or
whose timestamp is outside the replay window gets 403. With no key, posts get 403
too, unless ``[web] unsigned_webhooks`` allows them (for local testing): an open
endpoint would let anyone suppress any address.

A valid batch gets 200 with counts, even when some events are unknown or malformed
(each event is applied on its own; see :mod:`digest.web.events`); SendGrid retries any
other answer for 24 hours, and duplicates are skipped. No input gets a 5xx: a body or
header that cannot be read is a 400 or a 403; only a store that cannot be reached
answers 503, so that SendGrid tries again later.
"""

from __future__ import annotations

import binascii
import json
import logging
import re
from typing import Any

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from digest.errors import ConfigError
from digest.web.events import Tally, apply_events
from digest.web.forms import BadRequest, read_body
from digest.web.state import AppState

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
BODY_LIMIT = 20_000_000
ATTEMPTS = 3
SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²".isdigit() is True
log = logging.getLogger("digest.web")


def load_key(text: str) -> Any:
    """SendGrid's verification key (base64 DER, as its settings page shows it)."""
    try:
        return EventWebhook().convert_public_key_to_ecdsa(text.strip())
    except (ValueError, TypeError) as e:
        raise ConfigError(
            "SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid public key; copy the verification "
            f"key from SendGrid's Event Webhook settings ({e})"
        ) from None


def refusal(web: AppState, request: Request, body: bytes) -> str:
    """Why the post must be refused (403), or an empty string when it may be applied."""
    if web.webhook_key is None:
        if web.config.web.unsigned_webhooks:
            return ""
        return "signature verification is not configured; set SENDGRID_WEBHOOK_PUBLIC_KEY"
    signature = request.headers.get(SIGNATURE, "")
    timestamp = request.headers.get(TIMESTAMP, "")
    if not signature or not timestamp:
        return f"unsigned post: {SIGNATURE} and {TIMESTAMP} are required"
    if not SECONDS.fullmatch(timestamp):
        return f"{TIMESTAMP} must be whole seconds since the epoch"
    age = web.clock().timestamp() - int(timestamp)
    if abs(age) > web.config.web.webhook_replay_window:
        return f"timestamp {timestamp} is outside the replay window"
    try:
        payload = body.decode("utf-8")
        valid = EventWebhook().verify_signature(payload, signature, timestamp, web.webhook_key)
    except (UnicodeDecodeError, binascii.Error, ValueError, TypeError):
        valid = False
    return "" if valid else "bad signature"


def parse(body: bytes) -> list[Any]:
    try:
        events = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"body is not JSON: {e}") from None
    except RecursionError:
        raise BadRequest("body is not JSON SendGrid sends: nested too deeply") from None
    if not isinstance(events, list):
        raise BadRequest("body must be a JSON array of events")
    return events


def routes(web: AppState) -> list[BaseRoute]:
    def apply(events: list[Any]) -> Tally:
        for attempt in range(ATTEMPTS):
            try:
                with web.store.session() as session:
                    return apply_events(session, events, web.clock())
            except IntegrityError:  # the same events arrived twice at once: try again
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def sendgrid(request: Request) -> Response:
        try:
            body = await read_body(request, BODY_LIMIT)
        except BadRequest as e:
            return JSONResponse({"error": str(e)}, e.status)
        reason = refusal(web, request, body)
        if reason:
            log.warning("sendgrid webhook refused: %s", reason)
            return JSONResponse({"error": reason}, 403)
        try:
            events = parse(body)
        except BadRequest as e:
            return JSONResponse({"error": str(e)}, e.status)
        try:
            tally = await run_in_threadpool(apply, events)
        except SQLAlchemyError as e:
            log.error(
                "sendgrid webhook not applied, SendGrid will retry: %s", str(e).split("\n")[0]
            )
            return JSONResponse({"error": "the store is unavailable; retry later"}, 503)
        return JSONResponse(vars(tally), 200)

    return [Route("/webhooks/sendgrid", sendgrid, methods=["POST"])]
