"""Options shared by the commands, declared once."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from digest.errors import ConfigNotFoundError
from digest.settings import BACKENDS


def _existing_config(ctx: click.Context, param: click.Parameter, path: Path) -> Path:
    """The config file must exist: a usage error before any work, saying where the path
    came from (``--config``, ``$DIGEST_CONFIG`` or the default)."""
    if path.exists():
        return path
    source = ctx.get_parameter_source(param.name or "")
    if source is ParameterSource.COMMANDLINE:
        why = " (the path given to --config); check the path"
    elif source is ParameterSource.ENVIRONMENT:
        why = " (the path in $DIGEST_CONFIG); check the variable"
    else:
        path = path.resolve()
        why = "; pass --config PATH or set DIGEST_CONFIG"
    raise ConfigNotFoundError(f"{path}: config file not found{why}")


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIGEST_CONFIG",
    default="digest.toml",
    show_default="$DIGEST_CONFIG or digest.toml",
    callback=_existing_config,
    help="Configuration file (TOML).",
)
backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Deliver through this backend for this run, whatever the config says.",
)
segment_option = click.option("--segment", required=True, help="The segment's name.")
