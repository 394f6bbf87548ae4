"""``digest serve``: the public pages and webhooks on uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from digest.config import load_config
from digest.options import config_option
from digest.store.database import open_store


@click.command()
@config_option
@click.option("--host", default=None, help="Interface to listen on (default: [web] host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [web] port).")
def serve(config_path: Path, host: str | None, port: int | None) -> None:
    """Serve sign-up, confirmation, unsubscribe, preferences and the SendGrid webhook."""
    import uvicorn  # the web stack loads only for this command

    from digest.web.app import create_app

    config = load_config(config_path)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    with open_store(config.database_url) as store:
        app = create_app(config, store)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host or config.web.host,
                port=config.web.port if port is None else port,
                proxy_headers=True,
                forwarded_allow_ips=list(config.web.proxy_ips),
                server_header=False,
                log_level="info",
            )
        )
        server.run()
