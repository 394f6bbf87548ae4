"""What an editor does to a segment's next edition (POST, each behind the sign-in and the
CSRF check): pin, exclude, unpin, move, edit, note, subject, send test, approve, skip.

Each calls the desk engine (:mod:`digest.run.desk`), which records who did what and when,
then goes back to the page it came from (same view, same reader group) with one line
saying what happened, or what to fix. An approval of a draft that changed since the
editor saw it sends nothing: the page is shown again, composed afresh, with the changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest.errors import DigestError
from digest.run import desk as engine
from digest.web.desk.core import Desk, Endpoint, Visit
from digest.web.desk.present import group_of, group_param, when
from digest.web.desk.views import VIEWS, segment_page

SEPARATORS = re.compile(r"[\s,;]+")
Act = Callable[[Visit, str], str]  # (visit, segment) → the line to show


def article_id(visit: Visit) -> int:
    raw = visit.field("article")
    if not raw.isascii() or not raw.isdigit():
        raise DigestError("no article was chosen; use the buttons beside each story")
    return int(raw)


def same(one: str, other: str) -> bool:
    """Whether two texts differ in nothing but spacing (a form sends line breaks as CRLF)."""
    return one.split() == other.split()


def routes(desk: Desk) -> list[BaseRoute]:
    web = desk.web
    store, config = web.store, web.config

    def back_to(visit: Visit, segment: str) -> str:
        view = visit.field("view")
        query = {"view": view} if view in VIEWS and view != "desktop" else {}
        group = group_param(group_of(visit.field("group")))
        if group:
            query["group"] = group
        return desk.segment_url(segment, **query)

    def endpoint(act: Act) -> Endpoint:
        async def run(request: Request, visit: Visit) -> Response:
            segment = str(request.path_params["segment"])
            if segment not in config.segments:
                return desk.refusal(visit, "Not found", f"There is no segment {segment!r}.", 404)
            try:
                visit.done(await run_in_threadpool(act, visit, segment))
            except DigestError as e:
                visit.failed(f"Not done: {e}")
            return desk.back(visit, back_to(visit, segment))

        return run

    def pin(visit: Visit, segment: str) -> str:
        ref = visit.field("article") or visit.field("url")
        if not ref:
            raise DigestError("enter the address (URL) of a stored article to pin")
        return engine.pin(store, config, segment, ref, visit.editor.email, now=web.clock())

    def exclude(visit: Visit, segment: str) -> str:
        article = article_id(visit)
        return engine.exclude(store, config, segment, article, visit.editor.email, now=web.clock())

    def unpin(visit: Visit, segment: str) -> str:
        article = article_id(visit)
        return engine.unpin(store, config, segment, article, visit.editor.email, now=web.clock())

    def move(visit: Visit, segment: str) -> str:
        direction = visit.field("direction")
        if direction not in ("up", "down"):
            raise DigestError("move an item up or down")
        return engine.move(
            store, config, segment, article_id(visit), direction, visit.editor.email, web.clock()
        )

    def edit(visit: Visit, segment: str) -> str:
        title, summary = visit.field("title"), visit.field("summary")
        if visit.field("edited") != "yes":  # an unchanged field keeps following the composed
            title = "" if same(title, visit.field("was_title")) else title
            summary = "" if same(summary, visit.field("was_summary")) else summary
            if not (title or summary):
                return "nothing changed: the headline and summary are as composed"
        return engine.edit(
            store, config, segment, article_id(visit), title, summary, visit.editor.email,
            now=web.clock(),
        )  # fmt: skip

    def note(visit: Visit, segment: str) -> str:
        text = visit.fields.get("note", [""])[0]  # Markdown: leading spaces count
        return engine.set_note(store, config, segment, text, visit.editor.email, now=web.clock())

    def subject(visit: Visit, segment: str) -> str:
        line = visit.field("subject")
        return engine.set_subject(store, config, segment, line, visit.editor.email, web.clock())

    def test(visit: Visit, segment: str) -> str:
        addresses = tuple(a for a in SEPARATORS.split(visit.field("addresses")) if a)
        group = group_of(visit.field("group"))
        sent = engine.send_test(
            store, config, segment, visit.editor.email, addresses, web.clock(), group=group
        )
        return (
            f"Test sent to {', '.join(sent.addresses)} through {sent.backend} "
            f"at {when(sent.at, config.zone)}."
        )

    def skip(visit: Visit, segment: str) -> str:
        return engine.skip(store, config, segment, visit.editor.email, now=web.clock())

    async def approve(request: Request, visit: Visit) -> Response:
        segment = str(request.path_params["segment"])
        if segment not in config.segments:
            return desk.refusal(visit, "Not found", f"There is no segment {segment!r}.", 404)
        seen = visit.field("fingerprint")  # what the editor saw; a send of anything else waits
        if not seen:
            visit.failed("Not sent: the form did not say which draft you saw; reload the page")
            return desk.back(visit, back_to(visit, segment))
        try:
            report = await run_in_threadpool(
                engine.approve, store, config, segment, visit.editor.email, seen, web.clock()
            )
        except engine.StaleDraftError as e:
            view = visit.field("view") if visit.field("view") in VIEWS else "desktop"
            group = group_of(visit.field("group"))
            visit.flash = None
            return await segment_page(desk, visit, segment, view, group, stale=e.changes)
        except DigestError as e:
            visit.failed(f"Not sent: {e}")
            return desk.back(visit, back_to(visit, segment))
        if report.failed:
            visit.failed(f"Approved, but the send stopped: {report.note}")
        else:
            visit.done(
                f"Approved and {report.delivered} to {report.recipients} readers "
                f"({report.items} items)."
            )
        return desk.back(visit, back_to(visit, segment))

    actions: dict[str, Act] = {
        "pin": pin,
        "exclude": exclude,
        "unpin": unpin,
        "move": move,
        "edit": edit,
        "note": note,
        "subject": subject,
        "test": test,
        "skip": skip,
    }
    found: list[BaseRoute] = [
        Route(f"/desk/segments/{{segment}}/{name}", desk.action(endpoint(act)), methods=["POST"])
        for name, act in actions.items()
    ]
    found.append(Route("/desk/segments/{segment}/approve", desk.action(approve), methods=["POST"]))
    return found
