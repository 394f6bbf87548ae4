"""Double opt-in: ``/subscribe`` records a pending subscriber and mails a confirmation link.

``POST /subscribe`` takes a form or JSON (email, name, lists, tags) and gives the same
answer whether or not the address is known, suppressed or already active: only a new
or still pending address is mailed. The request's path never touches the store: the
answer comes from the form alone, and recording the sign-up and mailing the
confirmation happen after it (a background task), so its timing says nothing either.
Requests are limited per client (an IPv4 address, an IPv6 /64) and per mailbox (the
address with case, dots and ``+suffix`` set aside): 429 with Retry-After. A pending
address keeps its first sign-up's name, lists and tags; the confirmation names no one.

``GET /confirm/{token}`` only shows a button; ``POST /confirm/{token}`` activates.
Mail security scanners (Safe Links, Mimecast, ...) fetch every link in a message, so
activating on GET would confirm addresses their owners never asked for, and the
double opt-in would prove nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from digest.errors import DigestError
from digest.render.email import one_line
from digest.web.forms import BadRequest, Fields, client_ip, first, is_json, read_fields
from digest.web.mail import Confirmation as Mail
from digest.web.mail import send_confirmation
from digest.web.ratelimit import client_key, mailbox_key
from digest.web.state import AppState
from subscribers.consent import (
    Confirmation,
    ConsentClaim,
    ExpiredTokenError,
    SignUp,
    confirm,
    sign_up,
)
from subscribers.errors import BadTokenError
from subscribers.importer import normalise_email

FORM_LIMIT = 16_384
log = logging.getLogger("digest.web")
ANSWER = (
    "If this address can be subscribed, a confirmation email is on its way. "
    "Open it and press the button to start receiving the digest."
)


def parse_sign_up(web: AppState, fields: Fields) -> SignUp:
    """The sign-up asked for, or BadRequest naming the field to fix."""
    raw = first(fields, "email")
    if not raw:
        raise BadRequest("enter your email address")
    try:
        address = normalise_email(raw)
    except ValueError as e:
        raise BadRequest(f"{raw[:80]!r} is not a valid email address: {e}") from None
    lists = tuple(dict.fromkeys(v.strip() for v in fields.get("lists", []) if v.strip()))
    unknown = [name for name in lists if name not in web.lists]
    if unknown:
        choices = ", ".join(web.lists) or "none"
        raise BadRequest(f"unknown list {unknown[0][:80]!r}; choose from {choices}")
    if web.lists and not lists:
        raise BadRequest("choose at least one list")
    raw_tags = [t for v in fields.get("tags", []) for t in v.replace(";", ",").split(",")]
    tags = web.chosen_tags(raw_tags)
    return SignUp(address, one_line(first(fields, "name"), 200), lists, tags)


def _record(web: AppState, request: SignUp) -> Mail | None:
    with web.store.session() as session:
        result = sign_up(session, request, web.clock())
    if result.subscriber_id is None or not result.mail:
        return None
    labels = tuple(web.lists.get(name, name) for name in result.lists)
    return Mail(result.subscriber_id, request.email, labels)


def record_and_mail(web: AppState, request: SignUp) -> None:
    """The whole sign-up, after the answer: record it, then mail the confirmation if due."""
    try:
        mail = _record(web, request)
    except (SQLAlchemyError, DigestError) as e:
        log.error("sign-up not recorded: %s", str(e).splitlines()[0] if str(e) else e)
        return
    if mail is not None:
        send_confirmation(web, mail)


def _too_many(web: AppState, wait: int, as_json: bool) -> Response:
    headers = {"Retry-After": str(wait)}
    text = f"Too many sign-up attempts; try again in {wait} seconds."
    if as_json:
        return JSONResponse({"error": text}, status_code=429, headers=headers)
    return web.pages.message("Please wait", text, 429, headers, alert=True)


def routes(web: AppState) -> list[BaseRoute]:
    def form(values: dict[str, Any], error: str = "", status: int = 200) -> Response:
        context = {"lists": web.lists, "values": values, "error": error}
        return web.pages.render("subscribe", context, status)

    async def page(request: Request) -> Response:
        return form({"email": "", "name": "", "lists": [], "tags": ""})

    async def submit(request: Request) -> Response:
        as_json = is_json(request)
        wait = web.by_ip.take(client_key(client_ip(request)))
        if wait:
            return _too_many(web, wait, as_json)
        fields: Fields = {}
        try:
            fields = await read_fields(request, FORM_LIMIT)
            wanted = parse_sign_up(web, fields)
        except BadRequest as e:
            if as_json:
                return JSONResponse({"error": str(e)}, status_code=e.status)
            if e.status != 400:
                return web.pages.message("Not subscribed", str(e), e.status, alert=True)
            values = {
                "email": first(fields, "email"),
                "name": first(fields, "name"),
                "lists": fields.get("lists", []),
                "tags": first(fields, "tags"),
            }
            return form(values, str(e), 400)
        wait = web.by_address.take(mailbox_key(wanted.email))
        if wait:
            return _too_many(web, wait, as_json)
        task = BackgroundTask(record_and_mail, web, wanted)  # nothing stored is read before
        if as_json:
            return JSONResponse({"status": "accepted", "message": ANSWER}, 202, background=task)
        response = web.pages.render("subscribe_sent", {"text": ANSWER})
        response.background = task
        return response

    def claim_of(token: str) -> ConsentClaim | BadTokenError:
        try:
            return web.consent.read(token)
        except BadTokenError as e:
            return e

    def outcome(state: Confirmation) -> Response:
        pages = web.pages
        if state == Confirmation.confirmed:
            return pages.message("You are subscribed", "Thank you: your subscription is confirmed.")
        if state == Confirmation.already:
            return pages.message("Already confirmed", "This subscription was already confirmed.")
        if state == Confirmation.refused:
            return pages.message(
                "Not subscribed", "This address has left our lists and will not be mailed again."
            )
        return pages.message("Link not valid", "This address is not on our lists.", 404, alert=True)

    def refused(error: BadTokenError) -> Response:
        if isinstance(error, ExpiredTokenError):
            text = "This confirmation link has expired. Sign up again to get a new one."
        else:
            text = "This confirmation link is not valid. Copy the whole link from the email."
        return web.pages.message("Link not valid", text, 400, alert=True)

    def check(token: str, *, apply: bool) -> Confirmation | BadTokenError:
        claim = claim_of(token)
        if isinstance(claim, BadTokenError):
            return claim
        with web.store.session() as session:
            return confirm(session, claim, web.clock(), apply=apply)

    async def show(request: Request) -> Response:
        token = str(request.path_params["token"])
        state = await run_in_threadpool(check, token, apply=False)
        if isinstance(state, BadTokenError):
            return refused(state)
        if state != Confirmation.ready:
            return outcome(state)
        return web.pages.render("confirm", {"token": token})

    async def activate(request: Request) -> Response:
        token = str(request.path_params["token"])
        state = await run_in_threadpool(check, token, apply=True)
        if isinstance(state, BadTokenError):
            return refused(state)
        return outcome(state)

    return [
        Route("/subscribe", page, methods=["GET"]),
        Route("/subscribe", submit, methods=["POST"]),
        Route("/confirm/{token}", show, methods=["GET"]),
        Route("/confirm/{token}", activate, methods=["POST"]),
    ]
