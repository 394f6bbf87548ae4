"""The editors' desk under ``<base_url path>/desk/``: sign-in, the segments' next editions,
the actions that shape them, their history. See :mod:`digest.web.desk.core` for what
every desk request goes through."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest.web.desk import actions, signin, views
from digest.web.desk.core import Desk
from digest.web.desk.present import when
from digest.web.state import AppState

PAGES = ("desk/login", "desk/message", "desk/home", "desk/segment", "desk/history", "desk/edition")


def routes(web: AppState) -> list[BaseRoute]:
    desk = Desk(web, web.secret or web.store.secret("signing-key"))
    zone = web.config.zone
    web.pages.env.filters["when"] = lambda moment: when(moment, zone)
    web.pages.check(PAGES)

    async def home(request: Request) -> Response:
        return RedirectResponse(desk.url("/"), status_code=308)

    return [
        Route("/desk", home, methods=["GET"]),
        *signin.routes(desk),
        *views.routes(desk),
        *actions.routes(desk),
    ]
