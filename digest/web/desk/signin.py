"""Signing in and out of the desk: ``GET/POST /desk/login`` and ``POST /desk/logout``.

Attempts are limited per client (an IPv4 address, an IPv6 /64) and per address (the
spellings that reach one inbox), ``[desk] login_limit`` each per ``login_window``
seconds; an attempt that signs in gives its tokens back, so only failures add up. The
answer to a wrong password is the same whether or not the address is an editor's.
"""

from __future__ import annotations

import contextlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest.run.editors import sign_out_everywhere, verify_editor
from digest.web.desk.core import Desk
from digest.web.forms import BadRequest, Fields, client_ip, first, read_fields
from digest.web.ratelimit import client_key, mailbox_key

FORM_LIMIT = 8_192
WHY = {
    "expired": "Your session ended after a while without use; sign in again.",
    "removed": "Sign in again to continue.",
    "out": "You are signed out.",
}


def routes(desk: Desk) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        session = desk.sessions.read(request)
        next_url = desk.safe_next(request.query_params.get("next", ""))
        if (
            session is not None
            and session.signed_in
            and not desk.sessions.expired(session, desk.now())
        ):
            return RedirectResponse(next_url, status_code=303)
        note = WHY.get(request.query_params.get("why", ""), "")
        live = (
            session
            if session is not None and not desk.sessions.expired(session, desk.now())
            else None
        )
        return desk.sign_in_page(live, next_url=next_url, note=note)

    async def submit(request: Request) -> Response:
        session = desk.sessions.read(request)
        if session is not None and desk.sessions.expired(session, desk.now()):
            session = None
        fields: Fields = {}
        try:
            fields = await read_fields(request, FORM_LIMIT)
        except BadRequest as e:
            return desk.sign_in_page(session, error=str(e), status=e.status)
        email, next_url = first(fields, "email"), desk.safe_next(first(fields, "next"))
        if session is None or not session.csrf_matches(first(fields, "csrf")):
            return desk.sign_in_page(
                None,
                next_url=next_url,
                email=email,
                error="The sign-in form had expired; enter your password again.",
                status=403,
            )
        client, mailbox = client_key(client_ip(request)), mailbox_key(email)
        wait = desk.by_client.take(client) or desk.by_address.take(mailbox)
        if wait:
            return desk.sign_in_page(
                session,
                next_url=next_url,
                email=email,
                error=f"Too many sign-in attempts; try again in {wait} seconds.",
                status=429,
                headers={"Retry-After": str(wait)},
            )
        password = fields.get("password", [""])[0]
        editor = await run_in_threadpool(verify_editor, desk.web.store, email, password)
        if editor is None:
            return desk.sign_in_page(
                session,
                next_url=next_url,
                email=email,
                error="Wrong email address or password.",
                status=400,
            )
        desk.by_client.refund(client)
        desk.by_address.refund(mailbox)
        response = RedirectResponse(next_url, status_code=303)
        signed_in = desk.sessions.signed_in(editor.id, editor.key, desk.now())
        return desk.sessions.write(response, signed_in, desk.now())

    async def sign_out(request: Request) -> Response:
        session = desk.sessions.read(request)
        fields: Fields = {}
        with contextlib.suppress(BadRequest):
            fields = await read_fields(request, FORM_LIMIT)
        if session is not None and not session.csrf_matches(first(fields, "csrf")):
            return desk.render(
                "message",
                {
                    "heading": "Not signed out",
                    "text": "This form did not come from the desk; use the Log out button.",
                    "alert": True,
                },
                session,
                403,
            )
        if session is not None and session.signed_in:  # every session of theirs ends
            await run_in_threadpool(
                sign_out_everywhere, desk.web.store, session.editor_id, desk.web.clock()
            )
        response = RedirectResponse(desk.url("/login", why="out"), status_code=303)
        return desk.sessions.clear(response)

    return [
        Route("/desk/login", page, methods=["GET"]),
        Route("/desk/login", submit, methods=["POST"]),
        Route("/desk/logout", sign_out, methods=["POST"]),
    ]
