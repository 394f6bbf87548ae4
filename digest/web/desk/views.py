"""The desk's pages (GET): home, a segment's next edition and its email preview, a
segment's history, an edition's page and its web version.

Every figure comes from the desk engine (:mod:`digest.run.desk`); nothing here composes,
counts or records. The next edition is shown as a send would compose it, in three views
(desktop 600 px and mobile 375 px in frames onto :func:`email`, plain text in a ``pre``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest.errors import DigestError
from digest.run import desk as engine
from digest.web.desk.core import PREVIEW_HEADERS, Desk, Visit
from digest.web.desk.present import edition_html, group_of, group_param, in_new_tab

VIEWS = {"desktop": 600, "mobile": 375, "text": 0}
LEFT_OUT_SHOWN = 200  # left-out candidates listed before "show all"


def routes(desk: Desk) -> list[BaseRoute]:
    web = desk.web
    store, config = web.store, web.config

    def not_found(visit: Visit, what: str) -> Response:
        context = {"heading": "Not found", "text": what, "alert": True, "editor": visit.editor}
        return desk.render("message", context, visit.session, 404)

    def page(name: str, visit: Visit, context: Mapping[str, Any], status: int = 200) -> Response:
        return desk.render(
            name, {"editor": visit.editor, "flash": visit.flash, **context}, visit.session, status
        )

    async def home(request: Request, visit: Visit) -> Response:
        segments = await run_in_threadpool(
            engine.overview, store, config, now=web.clock(), recent=desk.recent
        )
        links = {s.segment: desk.segment_url(s.segment) for s in segments}
        return page("home", visit, {"segments": segments, "links": links})

    async def next_edition(request: Request, visit: Visit) -> Response:
        segment = str(request.path_params["segment"])
        if segment not in config.segments:
            return not_found(visit, f"There is no segment {segment!r} on this desk.")
        view = request.query_params.get("view", "desktop")
        view = view if view in VIEWS else "desktop"
        group = group_of(request.query_params.get("group", ""))
        all_left_out = request.query_params.get("left_out") == "all"
        return await segment_page(desk, visit, segment, view, group, all_left_out=all_left_out)

    async def slashed(request: Request) -> Response:
        """``/desk/segments/NAME/`` (the address approval notices link to) is the page too."""
        query = request.url.query
        target = desk.segment_url(str(request.path_params["segment"]))
        return RedirectResponse(target + (f"?{query}" if query else ""), status_code=308)

    async def email(request: Request, visit: Visit) -> Response:
        """The next edition's HTML as the chosen group's readers get it, for the frames."""
        segment = str(request.path_params["segment"])
        if segment not in config.segments:
            return not_found(visit, f"There is no segment {segment!r} on this desk.")
        group = group_of(request.query_params.get("group", ""))
        html = desk.frames.take((visit.session.csrf, segment, group_param(group)), desk.now())
        if html is None:  # not the frame of the page just shown: compose it
            shown = await run_in_threadpool(
                engine.next_edition,
                store,
                config,
                segment,
                group=group,
                now=web.clock(),
                recent=desk.recent,
            )
            html = shown.html
        return HTMLResponse(in_new_tab(html), headers=PREVIEW_HEADERS)

    async def history(request: Request, visit: Visit) -> Response:
        segment = str(request.path_params["segment"])
        if segment not in config.segments:
            return not_found(visit, f"There is no segment {segment!r} on this desk.")
        rows = await run_in_threadpool(engine.history, store, config, segment)
        links = {r.edition_id: desk.url(f"/editions/{r.edition_id}") for r in rows}
        title = config.segments[segment].title or segment
        context = {
            "segment": segment,
            "title": title,
            "editions": rows,
            "links": links,
            "next_url": desk.segment_url(segment),
            "zone": config.zone,
        }
        return page("history", visit, context)

    async def edition(request: Request, visit: Visit) -> Response:
        edition_id = int(request.path_params["edition_id"])
        try:
            figures = await run_in_threadpool(engine.edition, store, config, edition_id)
        except DigestError:
            return not_found(visit, f"There is no edition {edition_id}.")
        entries = await run_in_threadpool(engine.log, store, figures.segment, edition_id=edition_id)
        context = {
            "figures": figures,
            "log": entries,
            "web_version": figures.archive_url or desk.url(f"/editions/{edition_id}/email.html"),
            "history_url": desk.segment_url(figures.segment, "/history"),
            "zone": config.zone,
        }
        return page("edition", visit, context)

    async def edition_email(request: Request, visit: Visit) -> Response:
        edition_id = int(request.path_params["edition_id"])
        html = await run_in_threadpool(edition_html, store, config, edition_id)
        if html is None:
            return not_found(visit, f"There is no edition {edition_id}.")
        return HTMLResponse(in_new_tab(html), headers=PREVIEW_HEADERS)

    return [
        Route("/desk/", desk.page(home), methods=["GET"]),
        Route("/desk/segments/{segment}", desk.page(next_edition), methods=["GET"]),
        Route("/desk/segments/{segment}/", slashed, methods=["GET"]),
        Route("/desk/segments/{segment}/email.html", desk.page(email), methods=["GET"]),
        Route("/desk/segments/{segment}/history", desk.page(history), methods=["GET"]),
        Route("/desk/editions/{edition_id:int}", desk.page(edition), methods=["GET"]),
        Route(
            "/desk/editions/{edition_id:int}/email.html", desk.page(edition_email), methods=["GET"]
        ),
    ]


async def segment_page(
    desk: Desk,
    visit: Visit,
    segment: str,
    view: str,
    group: tuple[str, ...] | None,
    *,
    all_left_out: bool = False,
    stale: list[str] | None = None,
) -> Response:
    """A segment's next edition; ``stale`` lists what changed under an editor's approval."""
    web, config = desk.web, desk.web.config
    shown = await run_in_threadpool(
        engine.next_edition,
        web.store,
        config,
        segment,
        group=group,
        now=web.clock(),
        recent=desk.recent,
    )
    entries = await run_in_threadpool(engine.log, web.store, segment, limit=50)
    chosen = group_param(shown.group)
    if shown.items and view != "text":  # the page has a frame: it shows this email
        desk.frames.leave((visit.session.csrf, segment, chosen), shown.html, desk.now())
    here = {"group": chosen} if chosen else {}
    context = {
        "shown": shown,
        "segment": segment,
        "view": view,
        "width": VIEWS[view],
        "views": {name: desk.segment_url(segment, view=name, **here) for name in VIEWS},
        "chosen_group": chosen,
        "groups": [(group_param(g.topics), g) for g in shown.groups],
        "preview_url": desk.segment_url(segment, "/email.html", **here),
        "actions": desk.segment_url(segment),
        "history_url": desk.segment_url(segment, "/history"),
        "left_out": shown.left_out if all_left_out else shown.left_out[:LEFT_OUT_SHOWN],
        "all_left_out_url": desk.segment_url(segment, view=view, left_out="all", **here),
        "log": entries,
        "stale": stale or [],
        "zone": config.zone,
        "test_limit": config.desk.test_recipients,
        "approval_required": config.segment(segment).approval == "required",
    }
    context.update(editor=visit.editor, flash=visit.flash)
    return desk.render("segment", context, visit.session, 409 if stale else 200)
