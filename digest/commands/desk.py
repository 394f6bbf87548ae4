"""``digest approve`` and ``digest skip``: decide a segment's edition held for approval
from a script, as the desk's buttons do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest.commands.options import backend_option, config_option, segment_option
from digest.commands.run import check_usage
from digest.config import load_config
from digest.run.approval import approve as approve_held
from digest.run.approval import skip as skip_held
from digest.store.database import open_store

BY = "digest approve"  # who approved, in the history, when --editor is not given


@click.command()
@config_option
@backend_option
@segment_option
@click.option(
    "--editor",
    default="",
    help=f"Who approves, as the history shows it (an address); default {BY!r}.",
)
def approve(config_path: Path, backend: str | None, segment: str, editor: str) -> None:
    """Approve the segment's held edition and send it through the ledger."""
    config = load_config(config_path)
    check_usage(config, backend, (segment,))
    with open_store(config.database_url) as store:
        report = approve_held(store, config, segment, editor or BY, backend=backend or "")
    line = (
        f"approved {segment}: edition {report.edition}, {report.items} items, "
        f"{report.recipients} recipients, {report.written} {report.delivered}"
    )
    if report.preview:
        line += f"; preview {report.preview}"
    click.echo(line + (f" ({report.note})" if report.note else ""))
    if report.failed:
        sys.exit(1)


@click.command()
@config_option
@segment_option
@click.option("--editor", default="", help="Who skips, as the log shows it (an address).")
def skip(config_path: Path, segment: str, editor: str) -> None:
    """Skip the segment's held edition: nothing is sent, its articles stay new."""
    config = load_config(config_path)
    config.segment(segment)
    with open_store(config.database_url) as store:
        click.echo(skip_held(store, config, segment, editor or "digest skip"))
