"""Options shared by the commands, declared once."""

from __future__ import annotations

import os
from pathlib import Path

import click

from digest.config import BACKENDS

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("DIGEST_CONFIG", "digest.toml"),
    show_default="$DIGEST_CONFIG or digest.toml",
    help="Configuration file (TOML).",
)
backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Deliver through this backend for this run, whatever the config says.",
)
