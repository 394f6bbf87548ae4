"""The desk's session: a signed cookie that says who is signed in, until when, and the
token every form that changes anything must carry.

The cookie holds ``{"e": editor id, "k": editor key, "c": CSRF token, "t": last use,
"f": a one-line message for the next page}``, signed with itsdangerous (HMAC-SHA256) under
the app's secret, so it cannot be forged or altered; it is HttpOnly, SameSite=Lax, limited
to the desk's path and Secure when ``base_url`` is https. Each use re-issues it with a new
``t`` (the idle time counts from the last request), and a cookie whose ``t`` is older than
``[desk] session_idle_minutes`` is refused. A visitor who is not signed in gets a cookie
with ``e`` = 0 and a CSRF token only, so the sign-in form is protected too; signing in
replaces its token. The editor's key changes when the editor is removed and added again,
so a session never outlives the editor it was opened for.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "digest_desk"
SALT = "digest.desk.session"
MAX_FLASH = 300  # characters of the one-line message carried to the next page


@dataclass(frozen=True)
class DeskSession:
    editor_id: int  # 0 before signing in
    key: str
    csrf: str
    seen: float  # seconds since the epoch of the last request
    flash: tuple[str, str] | None = None  # ("status" | "alert", text) for the next page

    @property
    def signed_in(self) -> bool:
        return self.editor_id > 0

    def csrf_matches(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Sessions:
    """Reads and writes the session cookie of the desk at ``path``."""

    def __init__(self, secret: str, path: str, *, secure: bool, idle_seconds: float) -> None:
        self.serializer = URLSafeSerializer(secret, salt=SALT)
        self.path = path
        self.secure = secure
        self.idle_seconds = idle_seconds

    def read(self, request: Request) -> DeskSession | None:
        """The session the request's cookie carries, or None when absent or forged (its age
        is not checked here: :meth:`expired` does that)."""
        raw = request.cookies.get(COOKIE, "")
        if not raw or len(raw) > 4096:
            return None
        try:
            data: Any = self.serializer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        try:
            flash = data.get("f")
            return DeskSession(
                editor_id=int(data["e"]),
                key=str(data.get("k", "")),
                csrf=str(data["c"]),
                seen=float(data["t"]),
                flash=(str(flash[0]), str(flash[1])) if flash else None,
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def expired(self, session: DeskSession, now: float) -> bool:
        return now - session.seen > self.idle_seconds

    def anonymous(self, now: float) -> DeskSession:
        return DeskSession(0, "", new_token(), now)

    def signed_in(self, editor_id: int, key: str, now: float) -> DeskSession:
        return DeskSession(editor_id, key, new_token(), now)

    def write(self, response: Response, session: DeskSession, now: float) -> Response:
        """Set the cookie on ``response``, its idle time starting ``now``."""
        fresh = replace(session, seen=now)
        data: dict[str, Any] = {"e": fresh.editor_id, "k": fresh.key, "c": fresh.csrf, "t": now}
        if fresh.flash:
            kind, text = fresh.flash
            data["f"] = [kind, text if len(text) <= MAX_FLASH else text[: MAX_FLASH - 1] + "…"]
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(data),
            max_age=max(1, int(self.idle_seconds)),
            path=self.path,
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    def clear(self, response: Response) -> Response:
        response.delete_cookie(
            COOKIE, path=self.path, secure=self.secure, httponly=True, samesite="lax"
        )
        return response
