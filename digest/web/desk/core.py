"""What every desk endpoint shares: the session check, the CSRF check, the headers, and
the answers (a page, a redirect back with a one-line message, the sign-in page).

:meth:`Desk.page` and :meth:`Desk.action` wrap an endpoint: without a live session the
request goes to the sign-in page (a GET comes back to the page asked for after signing
in); an editor removed since signing in is signed out; a form without the session's CSRF
token is refused with nothing changed. Every answer re-issues the cookie, so the idle
time counts from the last request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from digest.compose.recent import RecentArticles
from digest.run.editors import EditorInfo, editor_by_id
from digest.web.desk.frames import Frames
from digest.web.desk.session import DeskSession, Sessions
from digest.web.forms import BadRequest, Fields, first, read_fields
from digest.web.ratelimit import RateLimiter
from digest.web.state import AppState

FORM_LIMIT = 65_536  # an editor's note or summary fits many times over
# The desk's own pages may frame the desk's email previews and nothing else.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# An email preview: shown only in the desk's own frames; its links open a new tab.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'; sandbox allow-popups "
    "allow-popups-to-escape-sandbox"
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_POLICY}
PREVIEW_HEADERS = {"Content-Security-Policy": PREVIEW_POLICY, "X-Frame-Options": "SAMEORIGIN"}


@dataclass
class Visit:
    """One request of a signed-in editor: who, their session, the form, and the message
    the answer carries to the next page."""

    editor: EditorInfo
    session: DeskSession
    fields: Fields = field(default_factory=dict)
    flash: tuple[str, str] | None = None  # set by an action, shown by the next page

    def field(self, name: str) -> str:
        return first(self.fields, name)

    def done(self, text: str) -> None:
        self.flash = ("status", sentence(text))

    def failed(self, text: str) -> None:
        self.flash = ("alert", sentence(text))


def sentence(text: str) -> str:
    """One line as a sentence: a capital first, a full stop last."""
    line = " ".join(text.split())
    line = line[:1].upper() + line[1:]
    return line if line.endswith((".", "!", "?", "…")) else line + "."


Endpoint = Callable[[Request, Visit], Awaitable[Response]]


class Desk:
    def __init__(self, web: AppState, secret: str) -> None:
        self.web = web
        root = web.pages.site["root"]
        self.path = f"{root}/desk"  # the public path; also the cookie's
        desk = web.config.desk
        self.sessions = Sessions(
            secret,
            self.path,
            secure=web.config.sender.base_url.lower().startswith("https:"),
            idle_seconds=desk.session_idle_minutes * 60,
        )
        self.by_client = RateLimiter(desk.login_limit, desk.login_window)
        self.by_address = RateLimiter(desk.login_limit, desk.login_window)
        self.frames = Frames()  # the email each page was shown with, for its frame
        self.recent = RecentArticles()  # the articles every compose starts from, kept

    def now(self) -> float:
        return self.web.clock().timestamp()

    def url(self, below: str = "/", **query: str) -> str:
        """The public URL path of a desk page, ``below`` starting with a slash."""
        return self.path + below + (f"?{urlencode(query)}" if query else "")

    def segment_url(self, segment: str, below: str = "", **query: str) -> str:
        return self.url(f"/segments/{quote(segment, safe='')}{below}", **query)

    def requested(self, request: Request) -> str:
        """The public path (and query) the request asked for, as the browser shows it."""
        root_path = request.scope.get("root_path", "")
        path = request.url.path
        below = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        query = request.url.query
        return self.web.pages.site["root"] + below + (f"?{query}" if query else "")

    def safe_next(self, target: str) -> str:
        """``target`` if it is a desk page of this site, else the desk's home."""
        parts = urlsplit(target)
        segments = unquote(parts.path).split("/")
        if (
            target.startswith(self.path + "/")
            and not parts.scheme
            and not parts.netloc
            and "\\" not in unquote(target)
            and target.isprintable()
            and not {".", ".."} & set(segments)
            and not target.startswith(self.url("/login"))
        ):
            return target
        return self.url("/")

    # --- answers ---

    def render(
        self,
        name: str,
        context: Mapping[str, Any],
        session: DeskSession,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A desk page, the cookie re-issued without the message it has now shown."""
        page = {"desk": self.path, "csrf": session.csrf, "editor": None, "flash": None, **context}
        response = self.web.pages.render(
            f"desk/{name}", page, status, {**PAGE_HEADERS, **(headers or {})}
        )
        return self.sessions.write(response, replace(session, flash=None), self.now())

    def sign_in_page(
        self,
        session: DeskSession | None,
        *,
        next_url: str = "",
        email: str = "",
        error: str = "",
        note: str = "",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if session is None or session.signed_in:
            session = self.sessions.anonymous(self.now())
        context = {"next": next_url, "email": email, "error": error, "note": note}
        return self.render("login", context, session, status, headers)

    def to_sign_in(self, request: Request, reason: str = "") -> Response:
        """A redirect to the sign-in page; a GET comes back to the page it asked for."""
        back = self.requested(request) if request.method in ("GET", "HEAD") else self.url("/")
        query = {"next": back} if back != self.url("/") else {}
        if reason:
            query["why"] = reason
        response = RedirectResponse(self.url("/login", **query), status_code=303)
        return self.sessions.clear(response) if reason else response

    def back(self, visit: Visit, target: str) -> Response:
        """See-other to ``target``, carrying the visit's message to it."""
        response = RedirectResponse(target, status_code=303)
        return self.sessions.write(response, replace(visit.session, flash=visit.flash), self.now())

    # --- the guards ---

    async def signed_in(self, request: Request) -> tuple[Visit | None, Response | None]:
        """The visit of a live session, or the answer for a request without one."""
        session = self.sessions.read(request)
        if session is None or not session.signed_in:
            return None, self.to_sign_in(request)
        if self.sessions.expired(session, self.now()):
            return None, self.to_sign_in(request, "expired")
        editor = await run_in_threadpool(editor_by_id, self.web.store, session.editor_id)
        if editor is None or editor.key != session.key:
            return None, self.to_sign_in(request, "removed")
        return Visit(editor, session, flash=session.flash), None

    def page(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        """A GET endpoint behind the sign-in."""

        async def guarded(request: Request) -> Response:
            visit, refused = await self.signed_in(request)
            if visit is None:
                assert refused is not None
                return refused
            response = await endpoint(request, visit)
            if "set-cookie" not in response.headers:  # not a page: its message waits
                self.sessions.write(response, visit.session, self.now())
            return response

        return guarded

    def action(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint behind the sign-in and the CSRF check."""

        async def guarded(request: Request) -> Response:
            visit, refused = await self.signed_in(request)
            if visit is None:
                assert refused is not None
                return refused
            try:
                visit.fields = await read_fields(request, FORM_LIMIT)
            except BadRequest as e:
                return self.refusal(visit, "Not done", str(e), e.status)
            if not visit.session.csrf_matches(visit.field("csrf")):
                return self.refusal(
                    visit,
                    "Not done",
                    "This form has expired or did not come from the desk, so nothing was "
                    "changed. Go back, reload the page and try again.",
                    403,
                )
            visit.flash = None
            try:
                return await endpoint(request, visit)
            finally:
                self.frames.clear()  # no frame shows an email composed before the change

        return guarded

    def refusal(self, visit: Visit, heading: str, text: str, status: int) -> Response:
        context = {"heading": heading, "text": text, "alert": True, "editor": visit.editor}
        return self.render("message", context, visit.session, status)
