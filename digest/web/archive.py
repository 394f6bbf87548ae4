"""The public archive (``archive = true`` per segment): a list page, an Atom feed and one
page per sent edition, under ``/archive/<segment>/``. A segment without ``archive``, an
unknown segment or slug answers 404.

An edition's page is the email itself, a whole HTML document with inline styles, shown
without any reader's data (:func:`digest.run.archive.archived_page`). Its articles'
images load from anywhere over HTTPS (or as data: URIs), so on those pages alone the
content security policy adds ``img-src https: data:``; every other header is the public
pages' own.
"""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digest.run.archive import archived, archived_items, archived_page, list_path
from digest.settings import SegmentSettings
from digest.web.feed import FEED_ENTRIES, atom_feed
from digest.web.state import AppState

PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ATOM = "application/atom+xml; charset=utf-8"
# The archive is published: unlike the private pages it may be cached a while and indexed.
PUBLISHED = {"cache-control": "public, max-age=300", "x-robots-tag": "all"}


def date_label(moment: datetime, web: AppState) -> str:
    local = moment.astimezone(web.config.zone)
    return f"{local:%A} {local.day} {local:%B %Y}"


def routes(web: AppState) -> list[BaseRoute]:
    def archived_segment(request: Request) -> SegmentSettings:
        segment = web.config.segments.get(str(request.path_params["segment"]))
        if segment is None or not segment.archive:
            raise HTTPException(404)
        return segment

    def title_of(segment: SegmentSettings) -> str:
        return segment.title or segment.name.replace("-", " ").title()

    async def listing(request: Request) -> Response:
        segment = archived_segment(request)
        editions = await run_in_threadpool(archived, web.store, segment.name)
        base = web.pages.site["root"] + list_path(segment.name)
        rows = [
            {
                "subject": edition.subject,
                "date": date_label(edition.created_at, web),
                "iso": edition.created_at.isoformat(),
                "url": f"{base}{edition.slug}/",
            }
            for edition in editions
        ]
        context = {"title": title_of(segment), "editions": rows, "feed_url": base + "feed.xml"}
        response = web.pages.render("archive", context)
        response.headers.update(PUBLISHED)
        return response

    async def feed(request: Request) -> Response:
        segment = archived_segment(request)

        def build() -> bytes:
            editions = archived(web.store, segment.name, FEED_ENTRIES)
            items = archived_items(web.store, segment.name, [e.slug for e in editions])
            return atom_feed(web, segment.name, title_of(segment), editions, items)

        return Response(await run_in_threadpool(build), media_type=ATOM, headers=PUBLISHED)

    async def page(request: Request) -> Response:
        segment = archived_segment(request)
        slug = str(request.path_params["slug"])
        html = await run_in_threadpool(archived_page, web.store, web.config, segment.name, slug)
        if html is None:
            raise HTTPException(404)
        return HTMLResponse(html, headers={"content-security-policy": PAGE_POLICY, **PUBLISHED})

    return [
        Route("/archive/{segment}/", listing, methods=["GET"]),
        Route("/archive/{segment}/feed.xml", feed, methods=["GET"]),
        Route("/archive/{segment}/{slug}/", page, methods=["GET"]),
    ]
