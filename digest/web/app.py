"""The web app: one Starlette application over the store, built by :func:`create_app`.

Every response, a 500 included, carries headers that keep the pages private and inert:
no caching (links carry tokens), no referrer (ditto), no framing (a framed unsubscribe
button could be clicked by a trick), no script, no indexing. The public pages set no
cookie; the editors' desk (:mod:`digest.web.desk`) sets its signed session cookie, and
frames its own email previews and nothing else.

The app answers under the path of ``[sender] base_url`` (``/digest`` for
``https://newsroom.example/digest``), as the links in every email expect, and at ``/``
too, for a reverse proxy that strips the prefix (as Datasette does with its
``base_url`` setting). The links and forms of its pages always carry that public prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digest.clock import Clock, utcnow
from digest.config import Config
from digest.deliver.backends import make_backend
from digest.deliver.links import signer
from digest.deliver.protocol import Backend
from digest.errors import ConfigError
from digest.run.delivery import delivery_settings
from digest.store.database import Store
from digest.web import archive, desk, preferences, subscribe, unsubscribe, webhooks
from digest.web.housekeeping import lifespan
from digest.web.pages import Pages
from digest.web.ratelimit import RateLimiter
from digest.web.state import AppState
from subscribers.consent import ConsentTokens

KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"
HEADERS = [
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"x-robots-tag", b"noindex"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]


class PrivateHeaders:
    """Pure ASGI middleware adding :data:`HEADERS` to every HTTP response (but for a header
    the response sets itself: the archive's pages widen the content security policy, the
    desk's pages frame the desk's own email previews)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                named = {name.lower() for name, _ in own}  # a page's own policy stands
                added = [header for header in HEADERS if header[0] not in named]
                message = {**message, "headers": [*own, *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BasePath:
    """Pure ASGI middleware: a path under ``prefix`` is routed as the path below it.

    The prefix becomes the request's ``root_path`` (Starlette routes on the path past
    it); a path without the prefix (a proxy stripped it) is routed as it is.
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.prefix:
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            below = path[len(root) :] if root and path.startswith(root) else path
            if below == self.prefix or below.startswith(self.prefix + "/"):
                scope = {**scope, "root_path": root + self.prefix}
        await self.app(scope, receive, send)


class DigestApp(Starlette):
    """Starlette with the private headers and the base path outside its error middleware,
    so that a 500 carries the headers too."""

    def __init__(self, *, base_path: str, **options: Any) -> None:
        self.base_path = base_path
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        return PrivateHeaders(BasePath(super().build_middleware_stack(), self.base_path))


def base_path(base_url: str) -> str:
    """The path of ``base_url`` without its trailing slash: "/digest", or "" at the root."""
    return urlsplit(base_url).path.rstrip("/")


def check_settings(config: Config) -> None:
    web = config.web
    where = f"{config.path} [web]"
    if not 0 < web.port < 65536:
        raise ConfigError(f"{where} port: {web.port} is not a port number (1-65535)")
    for key in ("ip_limit", "address_limit"):
        if getattr(web, key) < 1:
            raise ConfigError(f"{where} {key}: must be at least 1")
    for key in ("rate_window", "confirm_max_age", "webhook_replay_window"):
        if getattr(web, key) <= 0:
            raise ConfigError(f"{where} {key}: must be more than 0 seconds")
    if web.unconfirmed_days < 0:
        raise ConfigError(f"{where} unconfirmed_days: must be 0 (keep) or more")
    if 0 < web.unconfirmed_days * 86400 < web.confirm_max_age:
        raise ConfigError(
            f"{where} unconfirmed_days: {web.unconfirmed_days:g} days would delete sign-ups "
            f"whose link still works (confirm_max_age = {web.confirm_max_age:g} s); raise it"
        )
    if not web.frequencies:
        raise ConfigError(f'{where} frequencies: offer at least one, e.g. ["weekly"]')


def build_state(
    config: Config,
    store: Store,
    *,
    clock: Clock = utcnow,
    webhook_key: str | None = None,
    backend: Callable[[], Backend] | None = None,
) -> AppState:
    check_settings(config)
    general = config.general
    user = config.resolve(general.templates_dir) if general.templates_dir else None
    site = {
        "sender_name": config.sender.name,
        "postal_address": config.sender.postal_address,
        "root": base_path(config.sender.base_url),  # every link and form action starts so
    }
    secret = os.environ.get("DIGEST_SECRET_KEY") or store.secret("signing-key")
    key_text = os.environ.get(KEY_ENV, "") if webhook_key is None else webhook_key
    window = config.web.rate_window
    return AppState(
        config=config,
        store=store,
        pages=Pages(user, site),
        links=signer(store),
        consent=ConsentTokens(secret, config.web.confirm_max_age, lambda: clock().timestamp()),
        by_ip=RateLimiter(config.web.ip_limit, window),
        by_address=RateLimiter(config.web.address_limit, window),
        webhook_key=webhooks.load_key(key_text) if key_text.strip() else None,
        make_backend=backend or (lambda: make_backend(delivery_settings(config))),
        clock=clock,
        secret=secret,
    )


def create_app(
    config: Config,
    store: Store,
    *,
    clock: Clock = utcnow,
    webhook_key: str | None = None,
    backend: Callable[[], Backend] | None = None,
) -> Starlette:
    """The app. ``webhook_key`` None reads SENDGRID_WEBHOOK_PUBLIC_KEY from the environment."""
    web = build_state(config, store, clock=clock, webhook_key=webhook_key, backend=backend)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return web.pages.message("Not found", "There is no page at this address.", 404)
        if status == 405:
            return web.pages.message("Not allowed", "This page does not take that request.", 405)
        return web.pages.message("Error", "The request could not be handled.", status)

    async def failed(request: Request, exc: Exception) -> Response:
        return web.pages.message(
            "Error", "Something went wrong on our side; try again later.", 500, alert=True
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/healthz", health, methods=["GET"]),
        *subscribe.routes(web),
        *unsubscribe.routes(web),
        *preferences.routes(web),
        *webhooks.routes(web),
        *archive.routes(web),
        *desk.routes(web),
    ]
    app = DigestApp(
        base_path=base_path(config.sender.base_url),
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: failed},
        lifespan=lifespan(web),
    )
    app.state.web = web
    return app
