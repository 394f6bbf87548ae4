"""Unsubscribe: the List-Unsubscribe URL of every email, and the page behind its footer link.

The token (``subscribers.tokens``) names the subscriber and the segment the email came
from. ``GET /unsubscribe/{token}`` never changes anything: it shows two buttons, "leave
this digest" and "unsubscribe from everything". ``POST /unsubscribe/{token}`` does it:

- The RFC 8058 one-click POST (body ``List-Unsubscribe=One-Click``, form-data or
  URL-encoded; no cookies, no auth) and the "leave" button take the subscriber off the
  lists of that segment. When no list is left, or the segment goes to everyone, they
  are unsubscribed from everything.
- The "everything" button (``action=everything``) unsubscribes from everything.

Unsubscribing from everything sets the status ``unsubscribed`` and adds the address's
hash to the suppression list at once. The answer is a 200 page, never a redirect; a
forged or altered token gets 400 and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest.web.forms import BadRequest, first, form_fields, media_type, read_body
from digest.web.state import AppState
from subscribers.errors import BadTokenError
from subscribers.models import SUPPRESSED, Subscriber
from subscribers.suppression import leave
from subscribers.tokens import Claim

BODY_LIMIT = 16_384
EVERYTHING = "everything"


@dataclass(frozen=True)
class Scope:
    """What "this digest" means for a token: a title and the lists to leave (None: all)."""

    title: str
    lists: tuple[str, ...] | None


def scope_of(web: AppState, name: str) -> Scope:
    segment = web.config.segments.get(name)
    if segment is not None:
        title = segment.title or segment.name.replace("-", " ").title()
        return Scope(title, segment.lists or None)
    if name and name in web.lists:
        return Scope(web.lists[name], (name,))
    return Scope("", None)  # an unknown or retired segment: honour it as "everything"


def masked(address: str) -> str:
    """``ada@example.com`` → ``a••@example.com``: enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * max(2, min(len(local) - 1, 6))}@{domain}"


def claim_of(web: AppState, token: str) -> Claim | None:
    try:
        return web.links.read(token)
    except BadTokenError:
        return None


def routes(web: AppState) -> list[BaseRoute]:
    def forged() -> Response:
        return web.pages.message(
            "Link not valid",
            "This unsubscribe link is not valid. Copy the whole link from the email, "
            "or use the link in the footer of any of our emails.",
            400,
            alert=True,
        )

    def look(claim: Claim) -> Subscriber | None:
        with web.store.session() as session:
            return session.get(Subscriber, claim.subscriber_id)

    async def page(request: Request) -> Response:
        token = str(request.path_params["token"])
        claim = claim_of(web, token)
        if claim is None:
            return forged()
        subscriber = await run_in_threadpool(look, claim)
        if subscriber is None or subscriber.status in SUPPRESSED:
            return web.pages.render("unsubscribed", {"everything": True, "title": ""})
        scope = scope_of(web, claim.list_name)
        context = {
            "token": token,
            "address": masked(subscriber.email),
            "title": scope.title,
            "can_leave_one": scope.lists is not None,
        }
        return web.pages.render("unsubscribe", context)

    def apply(claim: Claim, everything: bool) -> bool:
        scope = scope_of(web, claim.list_name)
        with web.store.session() as session:
            subscriber = session.get(Subscriber, claim.subscriber_id)
            if subscriber is None:  # erased: nothing left to unsubscribe
                return True
            if subscriber.status in SUPPRESSED:
                return True
            return leave(session, subscriber, None if everything else scope.lists, web.clock())

    async def submit(request: Request) -> Response:
        claim = claim_of(web, str(request.path_params["token"]))
        if claim is None:
            return forged()
        everything = False
        try:
            body = await read_body(request, BODY_LIMIT)
            if media_type(request) == "application/x-www-form-urlencoded":
                everything = first(form_fields(body), "action") == EVERYTHING
        except BadRequest:
            pass  # a one-click POST needs no readable body: the URL says it all
        left_all = await run_in_threadpool(apply, claim, everything)
        title = scope_of(web, claim.list_name).title
        return web.pages.render("unsubscribed", {"everything": left_all, "title": title})

    return [
        Route("/unsubscribe/{token}", page, methods=["GET"]),
        Route("/unsubscribe/{token}", submit, methods=["POST"]),
    ]
