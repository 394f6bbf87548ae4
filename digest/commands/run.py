"""``digest run``, ``digest send``, ``digest due`` and ``digest schedule``: the main job,
when it is due or now."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click

from digest.clock import utcnow
from digest.commands.audience import print_merge
from digest.commands.intake import print_reports
from digest.commands.options import backend_option, config_option
from digest.config import Config, load_config
from digest.deliver import shutdown
from digest.deliver.backends import make_backend
from digest.errors import UsageError
from digest.intake.ingest import SourceReport
from digest.run.delivery import delivery_settings
from digest.run.due import Due, due_segments
from digest.run.job import JobResult, due_job, main_job
from digest.run.report import SegmentReport, delivered_word
from digest.run.scheduler import left_pending, run_schedule
from digest.run.subscribers_file import AudienceReport
from digest.store.database import open_store

STOPPED = "stopped: any batch in hand was finished and recorded"


@click.command()
@config_option
@backend_option
@click.option("--all", "every", is_flag=True, help="Every segment now, whether due or not.")
@click.option(
    "--segment",
    "segments",
    multiple=True,
    help="This segment now, whether due or not (repeatable).",
)
def run(config_path: Path, backend: str | None, every: bool, segments: tuple[str, ...]) -> None:
    """Continue unfinished editions, then ingest and send every segment that is due.

    A segment is due when its schedule has had a slot since its last edition (one edition
    for any number of missed slots within its catch_up; older ones are reported and
    skipped); a segment never sent is due at once. With nothing due, nothing is fetched and
    one line says when each segment is next due. For cron: `*/5 * * * * digest run`.
    SIGTERM or Ctrl-C finishes the batch in hand; the rest stays pending for the next run.
    """
    config = load_config(config_path)
    if every and segments:
        raise UsageError("--all runs every segment; leave out --segment, or --all")
    check_usage(config, backend, segments)
    shutdown.reset()
    with open_store(config.database_url) as store, shutdown.on_signals():
        if every or segments:
            names = segments or tuple(config.segments)
            result = main_job(store, config, backend or "", names, Printer(config))
        else:
            result = due_job(store, config, backend or "", Printer(config))
            print_missed(result)
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
    """Send one segment's next edition now, whether due or not."""
    config = load_config(config_path)
    check_usage(config, backend, segments)
    with open_store(config.database_url) as store:
        result = main_job(
            store, config, backend or "", segments, Printer(config), ingest=not no_ingest, slot=slot
        )
    finish(result, backend or config.general.backend)


@click.command()
@config_option
@click.option(
    "--at", "at", default="", metavar="TIME", help="ISO 8601 time to ask about instead of now."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, for scripts.")
def due(config_path: Path, at: str, as_json: bool) -> None:
    """Show each segment's schedule, last slot, next slot, and whether it is due now.

    TIME for --at is ISO 8601 (2026-12-05T08:00, or with an offset); without an offset it
    is read in the [digest] timezone. Times are shown in each segment's zone.
    """
    config = load_config(config_path)
    now = moment_of(at, config) if at else utcnow()
    with open_store(config.database_url) as store:
        found = due_segments(store, config, now)
    if as_json:
        click.echo(json.dumps([due_record(d) for d in found], indent=2, ensure_ascii=False))
    else:
        print_due(found, now if at else None)


@click.command()
@config_option
@backend_option
def schedule(config_path: Path, backend: str | None) -> None:
    """Send every segment when it is due, until stopped (SIGTERM or Ctrl-C).

    Prints what `digest due` prints, then checks at each slot (and each minute) what a cron
    `digest run` would; every line starts with its time. A stop finishes the batch in hand
    and exits 0; what is left is pending for the next run.
    """
    config = load_config(config_path)
    check_usage(config, backend, ())
    used = backend or config.general.backend
    shutdown.reset()
    with stamped(config), open_store(config.database_url) as store, shutdown.on_signals():
        print_due(due_segments(store, config, utcnow()))

        def told(result: JobResult) -> None:
            print_missed(result)
            if result.segments:
                print_table(result.segments, used)
            if not result.idle:
                print_next(result.schedules, bool(result.segments))

        def failed(error: str) -> None:
            click.echo(f"error: {error}", err=True)

        run_schedule(store, config, backend or "", Printer(config), told, failed)
        left = left_pending(store)
        click.echo(f"{STOPPED}; pending for the next run: {left}" if left else STOPPED)


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
    """The results table, then when each segment not due is next due; exit 1 when anything
    failed (the rest was done and stored)."""
    if result.segments or not result.schedules:
        print_table(result.segments, backend)
    print_next(result.schedules, bool(result.segments))
    if result.failed:
        sys.exit(1)


def print_missed(result: JobResult) -> None:
    """One line per missed slot (reported once: the slot is recorded as handled)."""
    for missed in result.missed:
        click.echo(f"{missed.segment}: {missed.why}")


def print_next(schedules: Sequence[Due], did: bool = False) -> None:
    """One line: when each segment that was not due is next due (``did``: the run did
    something else, such as resuming an edition)."""
    waiting = [d for d in schedules if not d.due]
    if not waiting:
        return
    first = (
        "not due" if len(waiting) < len(schedules) else "nothing else due" if did else "nothing due"
    )
    click.echo(f"{first}; next: " + ", ".join(f"{d.segment} {d.shown(d.next_at)}" for d in waiting))


def print_due(found: Sequence[Due], at: datetime | None = None) -> None:
    """The table of `digest due`: one row per segment, times in the segment's zone."""
    header = ("segment", "schedule", "last slot", "next slot", "due", "why")
    rows = [
        (
            d.segment,
            d.schedule,
            d.shown(d.latest_at),
            d.shown(d.next_at),
            "yes" if d.due else d.state if d.state != "waiting" else "no",
            d.why,
        )
        for d in found
    ]
    if at is not None:
        click.echo(f"at {at.isoformat(timespec='minutes')}:")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
        )


def due_record(found: Due) -> dict[str, Any]:
    """One segment of `digest due --json`; times ISO 8601 in the segment's zone."""

    def iso(when: datetime | None) -> str | None:
        return when.astimezone(found.zone).isoformat() if when is not None else None

    return {
        "segment": found.segment,
        "schedule": found.schedule,
        "timezone": found.zone.key,
        "last_slot": iso(found.latest_at),
        "next_slot": iso(found.next_at),
        "due": found.due,
        "state": found.state,
        "why": found.why,
        "run_key": found.slot if found.due else "",
    }


def moment_of(text: str, config: Config) -> datetime:
    """``--at``'s ISO 8601 time; without an offset, in the [digest] timezone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at {text!r}: not an ISO 8601 time; write e.g. 2026-12-05T08:00 or "
            "2026-12-05T08:00+01:00"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=config.zone)


class Stamped:
    """A text stream that starts every line with the time it is written, ISO 8601 with
    the offset of the [digest] timezone: a long-running command's log."""

    def __init__(self, stream: IO[str], config: Config) -> None:
        self.stream = stream
        self.zone = config.zone
        self.fresh = True  # the next character starts a line

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks whether the stream takes bytes
            raise TypeError("a text stream")
        for piece in text.splitlines(keepends=True):
            if self.fresh:
                self.stream.write(utcnow().astimezone(self.zone).isoformat(timespec="seconds"))
                self.stream.write(" ")
            self.stream.write(piece)
            self.fresh = piece.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False  # no progress bars in a log

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def stamped(config: Config) -> Iterator[None]:
    """Standard output and error stamped (:class:`Stamped`) while inside."""
    saved = sys.stdout, sys.stderr
    sys.stdout = Stamped(sys.stdout, config)
    sys.stderr = Stamped(sys.stderr, config)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


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
