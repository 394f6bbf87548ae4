"""The ``digest`` command line: small commands whose docstrings are their help."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from digest import __version__
from digest.audience_commands import print_merge, subscribers_group
from digest.compose import preview
from digest.compose.commands import summarise
from digest.config import Config, load_config
from digest.deliver import commands as deliver_commands
from digest.deliver.backends import make_backend
from digest.errors import DigestError, UsageError
from digest.intake import commands as intake_commands
from digest.intake.extract import extract
from digest.intake.ingest import ingest_all
from digest.options import backend_option, config_option
from digest.pipeline import SegmentReport, delivered_word, run_segments, sync_subscribers
from digest.segments_command import segments
from digest.settings import settings_markdown, settings_text
from digest.store.database import Store, open_store
from digest.web import command as web_command
from subscribers.errors import AudienceError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="digest")
def cli() -> None:
    """Digest turns a stream of articles into segmented newsletter digests."""


@cli.command()
@config_option
@backend_option
@click.option("--segment", "segments", multiple=True, help="Only this segment (repeatable).")
def run(config_path: Path, backend: str | None, segments: tuple[str, ...]) -> None:
    """Ingest all sources, then compose, render and deliver every segment."""
    config = load_config(config_path)
    _check_usage(config, backend, segments)
    with open_store(config.database_url) as store:
        _main_job(store, config, backend, segments or tuple(config.segments), ingest=True)


@cli.command()
@config_option
@backend_option
@click.option(
    "--segment", "segments", multiple=True, required=True, help="Segment to send (repeatable)."
)
@click.option("--slot", default="", help="Run key; a second send with the same key does nothing.")
@click.option(
    "--no-ingest", is_flag=True, help="Send from what is stored, without fetching sources."
)
def send(
    config_path: Path, backend: str | None, segments: tuple[str, ...], slot: str, no_ingest: bool
) -> None:
    """Send one segment's next edition now (for system cron)."""
    config = load_config(config_path)
    _check_usage(config, backend, segments)
    with open_store(config.database_url) as store:
        _main_job(store, config, backend, segments, ingest=not no_ingest, slot=slot)


cli.add_command(intake_commands.ingest)
cli.add_command(intake_commands.sources)
cli.add_command(extract)
cli.add_command(deliver_commands.status)
cli.add_command(deliver_commands.resume)
cli.add_command(web_command.serve)
cli.add_command(summarise)
cli.add_command(preview.preview)
cli.add_command(preview.pin)
cli.add_command(preview.exclude)
cli.add_command(subscribers_group)
cli.add_command(segments)


@cli.command()
@config_option
@backend_option
def schedule(config_path: Path, backend: str | None) -> None:
    """Run every segment on its cron schedule until interrupted."""
    from digest.schedule import build_scheduler

    config = load_config(config_path)
    _check_usage(config, backend, ())

    with open_store(config.database_url) as store:

        def job(segment: str, slot: str) -> None:
            try:
                _main_job(
                    store,
                    config,
                    backend,
                    (segment,),
                    ingest=True,
                    slot=slot,
                    exit_on_failure=False,
                )
            except (DigestError, AudienceError) as e:  # the scheduler keeps going
                click.echo(f"error: {segment} {slot}: {e}", err=True)

        scheduler = build_scheduler(config, job)
        for each in scheduler.get_jobs():
            click.echo(f"scheduled {each.name} ({each.trigger}) in {config.general.timezone}")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            click.echo("scheduler stopped")


@cli.command()
@click.option(
    "--markdown", is_flag=True, help="Print the reference as Markdown (docs/settings.md)."
)
def settings(markdown: bool) -> None:
    """List every configuration setting with its default and help."""
    click.echo(settings_markdown() if markdown else settings_text(), nl=False)


def _check_usage(config: Config, backend: str | None, segments: Sequence[str]) -> None:
    """What the command line and the environment ask for must be there before any work:
    each named segment (a usage error) and the backend's settings and secret."""
    for name in segments:
        config.segment(name)
    make_backend(config, backend or "").close()


def _main_job(
    store: Store,
    config: Config,
    backend_name: str | None,
    segments: Sequence[str],
    *,
    ingest: bool,
    slot: str = "",
    exit_on_failure: bool = True,
) -> None:
    now = datetime.now(UTC)
    audience = sync_subscribers(store, config, now)
    problems = audience is not None and print_merge(audience, config)  # the rest goes on
    if ingest:
        reports = ingest_all(store, config, now)
        intake_commands.print_reports(reports)
        problems = any(r.error for r in reports) or problems
    results = run_segments(store, config, backend_name or "", segments, now=now, slot=slot)
    _print_table(results, backend_name or config.general.backend)
    if exit_on_failure and any(r.failed for r in results):
        sys.exit(1)
    if exit_on_failure and problems:
        sys.exit(1)


def _print_table(reports: Sequence[SegmentReport], backend: str) -> None:
    """One row per segment; the count column says what the backend did: "written" to the
    outbox, "sent" through SMTP or SendGrid ("delivered" when a run used both)."""
    kinds = {r.delivered for r in reports if r.backend} or {delivered_word(backend)}
    header = (
        "segment",
        "items",
        "recipients",
        kinds.pop() if len(kinds) == 1 else "delivered",
        "open",
    )
    rows = [
        (
            r.segment,
            str(r.items),
            str(r.recipients),
            str(r.written),
            (str(r.preview) if r.preview else "")
            + (f"  ({r.note})" if r.note and r.preview else r.note),
        )
        for r in reports
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: turn every known error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="digest", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except (DigestError, AudienceError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2 if isinstance(e, UsageError) else 1)
    except Exception as e:  # the last line of defence: never a traceback
        if os.environ.get("DIGEST_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(e).__name__}: {e} (set DIGEST_DEBUG=1 for details)", err=True
        )
        sys.exit(70)
