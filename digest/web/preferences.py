"""Preferences: ``GET/POST /preferences/{token}``, linked from the footer of every email.

A subscriber chooses the tags they follow (each shown once, in the spelling
``[intake] tag_synonyms`` gives it), how often they hear from us
(``attributes["frequency"]``, one of ``[web] frequencies``; none is pre-selected for a
reader who never chose), the lists they are on (only the offered lists change; others
are kept), and may pause every email; the page
also carries the "unsubscribe from everything" button (a form posted to the
unsubscribe URL). Saving answers with the same page and a status line, no redirect.
From the first save on, the subscribers file merged at each run leaves the reader's tags,
frequency and lists as they chose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest.web.forms import BadRequest, Fields, first, read_fields
from digest.web.state import AppState
from digest.web.unsubscribe import claim_of, masked
from subscribers.consent import is_paused, pause, resume
from subscribers.models import SUPPRESSED, Membership, Status, Subscriber

FORM_LIMIT = 16_384


@dataclass(frozen=True)
class Choice:
    tags: tuple[str, ...]
    frequency: str
    lists: tuple[str, ...]
    paused: bool


def parse_choice(web: AppState, fields: Fields) -> Choice:
    raw = [*fields.get("tags", []), *first(fields, "more_tags").replace(";", ",").split(",")]
    tags = web.chosen_tags(raw)
    frequency = first(fields, "frequency")  # "" when none is chosen: nothing changes
    if frequency and frequency not in web.config.web.frequencies:
        raise BadRequest(f"choose a frequency among {', '.join(web.config.web.frequencies)}")
    lists = tuple(name for name in web.lists if name in fields.get("lists", []))
    return Choice(tags, frequency, lists, first(fields, "paused") == "yes")


def apply_choice(web: AppState, subscriber: Subscriber, choice: Choice) -> None:
    subscriber.preferences_saved_at = web.clock()
    subscriber.followed_tags = list(choice.tags)
    if choice.frequency:
        subscriber.attributes = {**subscriber.attributes, "frequency": choice.frequency}
    have = {m.list_name: m for m in subscriber.lists}
    kept = [m for m in subscriber.lists if m.list_name not in web.lists]
    subscriber.lists = kept + [have.get(n) or Membership(list_name=n) for n in choice.lists]
    if choice.paused:
        pause(subscriber, web.clock())
    elif is_paused(subscriber):
        resume(subscriber)


def context(web: AppState, token: str, subscriber: Subscriber) -> dict[str, Any]:
    followed = list(web.normalise_tags(list(subscriber.followed_tags)))  # one spelling each
    offered = list(dict.fromkeys([*web.tags, *followed]))
    frequencies = web.config.web.frequencies
    current = str(subscriber.attributes.get("frequency", ""))
    return {
        "token": token,
        "address": masked(subscriber.email),
        "tags": offered,
        "followed": followed,
        "frequencies": frequencies,
        "frequency": current if current in frequencies else "",  # never chosen: none checked
        "lists": web.lists,
        "member_of": sorted(subscriber.list_names),
        "paused": is_paused(subscriber),
        "saved": False,
        "error": "",
    }


def routes(web: AppState) -> list[BaseRoute]:
    def handle(token: str, choice: Choice | None, error: str) -> Response:
        claim = claim_of(web, token)
        if claim is None:
            return web.pages.message(
                "Link not valid",
                "This preferences link is not valid. Copy the whole link from the email.",
                400,
                alert=True,
            )
        with web.store.session() as session:
            subscriber = session.get(Subscriber, claim.subscriber_id)
            if subscriber is None or subscriber.status in SUPPRESSED:
                return web.pages.message(
                    "Not subscribed", "This address is not subscribed to any of our emails."
                )
            if subscriber.status == Status.pending and not is_paused(subscriber):
                return web.pages.message(
                    "Please confirm first",
                    "Press the button in the confirmation email we sent to start your "
                    "subscription; then you can choose what you receive.",
                )
            if choice is not None:
                apply_choice(web, subscriber, choice)
                session.flush()
            page = context(web, token, subscriber)
        page.update(saved=choice is not None, error=error)
        return web.pages.render("preferences", page, 400 if error else 200)

    async def show(request: Request) -> Response:
        token = str(request.path_params["token"])
        return await run_in_threadpool(handle, token, None, "")

    async def save(request: Request) -> Response:
        token = str(request.path_params["token"])
        try:
            choice = parse_choice(web, await read_fields(request, FORM_LIMIT))
        except BadRequest as e:
            if e.status != 400:
                return web.pages.message("Not saved", str(e), e.status, alert=True)
            return await run_in_threadpool(handle, token, None, str(e))
        return await run_in_threadpool(handle, token, choice, "")

    return [
        Route("/preferences/{token}", show, methods=["GET"]),
        Route("/preferences/{token}", save, methods=["POST"]),
    ]
