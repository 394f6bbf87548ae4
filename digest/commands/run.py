"""``digest run``, ``digest send`` and ``digest schedule``: the main job, now or on schedule."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from digest.commands.audience import print_merge
from digest.commands.intake import print_reports
from digest.commands.options import backend_option, config_option
from digest.config import Config, load_config
from digest.deliver.backends import make_backend
from digest.errors import DigestError
from digest.intake.ingest import SourceReport
from digest.run.approval import apply_deadline
from digest.run.delivery import delivery_settings
from digest.run.job import JobResult, main_job
from digest.run.report import SegmentReport, delivered_word
from digest.run.schedule import build_scheduler
from digest.run.subscribers_file import AudienceReport
from digest.store.database import open_store
from subscribers.errors import AudienceError


@click.command()
@config_option
@backend_option
@click.option("--segment", "segments", multiple=True, help="Only this segment (repeatable).")
def run(config_path: Path, backend: str | None, segments: tuple[str, ...]) -> None:
    """Ingest all sources, then compose, render and deliver every segment."""
    config = load_config(config_path)
    check_usage(config, backend, segments)
    with open_store(config.database_url) as store:
        names = segments or tuple(config.segments)
        result = main_job(store, config, backend or "", names, Printer(config))
    finish(result, backend or config.general.backend)


@click.command()
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
    check_usage(config, backend, segments)
    with open_store(config.database_url) as store:
        result = main_job(
            store, config, backend or "", segments, Printer(config), ingest=not no_ingest, slot=slot
        )
    finish(result, backend or config.general.backend)


@click.command()
@config_option
@backend_option
def schedule(config_path: Path, backend: str | None) -> None:
    """Run every segment on its cron schedule until interrupted."""
    config = load_config(config_path)
    check_usage(config, backend, ())

    with open_store(config.database_url) as store:

        def job(segment: str, slot: str) -> None:
            try:
                result = main_job(
                    store, config, backend or "", (segment,), Printer(config), slot=slot
                )
                print_table(result.segments, backend or config.general.backend)
            except (DigestError, AudienceError) as e:  # the scheduler keeps going
                click.echo(f"error: {segment} {slot}: {e}", err=True)

        def deadline(segment: str) -> None:
            try:
                report = apply_deadline(store, config, segment, backend=backend or "")
                if report is not None:
                    print_table([report], backend or config.general.backend)
            except (DigestError, AudienceError) as e:  # the scheduler keeps going
                click.echo(f"error: {segment} approval deadline: {e}", err=True)

        scheduler = build_scheduler(config, job, deadline)
        for each in scheduler.get_jobs():
            click.echo(f"scheduled {each.name} ({each.trigger}) in {config.general.timezone}")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            click.echo("scheduler stopped")


def check_usage(config: Config, backend: str | None, segments: Sequence[str]) -> None:
    """What the command line and the environment ask for must be there before any work:
    each named segment (a usage error) and the backend's settings and secret."""
    for name in segments:
        config.segment(name)
    make_backend(delivery_settings(config, backend or "")).close()


class Printer:
    """Tells the person at the terminal what the job finds, as it finds it."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def merged(self, report: AudienceReport) -> None:
        print_merge(report, self.config)

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        print_reports(reports)


def finish(result: JobResult, backend: str) -> None:
    """The results table, then exit 1 when anything failed (the rest was done and stored)."""
    print_table(result.segments, backend)
    if result.failed:
        sys.exit(1)


def print_table(reports: Sequence[SegmentReport], backend: str) -> None:
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
