"""``digest serve``: the public pages, the editors' desk and webhooks on uvicorn."""

from __future__ import annotations

import gc
import logging
import socket
from pathlib import Path

import click
import uvicorn

from digest.commands.options import config_option
from digest.config import load_config
from digest.errors import DigestError
from digest.store.database import open_store
from digest.web.app import base_path, create_app


class ListenError(DigestError):
    """The server cannot listen on the address asked for."""


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (uvicorn listens on it), or ListenError in one line."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as e:
        raise ListenError(f"cannot listen on {where}: unknown host ({e}); check --host") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        reason = (e.strerror or str(e)).lower()
        raise ListenError(
            f"cannot listen on {where}: {reason}; stop what is using it, or pass another --port"
        ) from None
    return sock


@click.command()
@config_option
@click.option("--host", default=None, help="Interface to listen on (default: [web] host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [web] port).")
def serve(config_path: Path, host: str | None, port: int | None) -> None:
    """Serve the public pages, the editors' desk and the SendGrid webhook."""
    config = load_config(config_path)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # no migration chatter at startup
    with open_store(config.database_url) as store:
        app = create_app(config, store)
        host, port = host or config.web.host, config.web.port if port is None else port
        sock = listen(host, port)
        logging.getLogger("digest.web").info(
            "listening on %s:%s; pages under %s/ (and /), links in emails use %s; "
            "the editors' desk is at %s/desk/",
            host,
            port,
            base_path(config.sender.base_url),
            config.sender.base_url,
            config.sender.base_url.rstrip("/"),
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                proxy_headers=True,
                forwarded_allow_ips=list(config.web.proxy_ips),
                server_header=False,
                log_level="info",
            )
        )
        # What is loaded by now lives as long as the server: kept out of the collector's
        # full passes, which otherwise walk it every few requests of a large compose.
        gc.freeze()
        with sock:
            server.run(sockets=[sock])
