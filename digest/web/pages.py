"""Render the web pages from templates/web/: the user's templates folder first, then ours.

Every page extends ``web/_layout.html``; pages are plain HTML forms that work without
JavaScript. A missing or broken page template is found when the app starts, not when a
reader clicks a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from digest.errors import RenderError
from digest.render.templates import environment

PAGES = (
    "subscribe",
    "subscribe_sent",
    "confirm",
    "unsubscribe",
    "unsubscribed",
    "preferences",
    "message",
    "archive",
    "archive_entry",
)


class Pages:
    def __init__(self, user_dir: Path | None, site: Mapping[str, str]) -> None:
        self.env = environment(user_dir, html=True)
        self.site = dict(site)
        self.check(PAGES)

    def check(self, names: tuple[str, ...]) -> None:
        """Load each page template now: RenderError names a missing or broken one."""
        for name in names:
            try:
                self.env.get_template(f"web/{name}.html")
            except jinja2.TemplateNotFound as e:
                raise RenderError(f"page template web/{name}.html not found ({e})") from e
            except jinja2.TemplateSyntaxError as e:
                raise RenderError(
                    f"{e.filename or e.name}:{e.lineno}: template syntax error: {e.message}"
                ) from e

    def render(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        template = self.env.get_template(f"web/{name}.html")
        body = template.render({**self.site, **(context or {})})
        return HTMLResponse(body, status_code=status, headers=dict(headers or {}))

    def message(
        self,
        heading: str,
        text: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        alert: bool = False,
    ) -> HTMLResponse:
        """A page with one heading and one paragraph: errors and short answers."""
        context = {"heading": heading, "text": text, "alert": alert}
        return self.render("message", context, status, headers)
