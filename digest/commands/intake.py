"""``digest ingest``, ``digest sources`` and ``digest extract``: intake from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import click

from digest.commands.options import config_option
from digest.config import load_config
from digest.errors import UsageError
from digest.intake.extract import extract_records
from digest.intake.health import choose_sources, resume_source, source_health
from digest.intake.ingest import SourceReport, ingest_all
from digest.store.database import open_store


@click.command()
@config_option
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
def ingest(config_path: Path, sources: tuple[str, ...]) -> None:
    """Fetch sources and store new articles; one line per source.

    Every configured source is fetched, or only those named as SOURCE. A SOURCE that
    is a feed file or an http(s) feed URL is ingested too, as a source named by the
    argument. Exit 0 when all succeed, 1 when some failed, 2 on a usage error.
    """
    config = load_config(config_path)
    try:
        chosen = choose_sources(config, sources)
    except UsageError as e:  # told the way click tells a bad argument
        raise click.UsageError(str(e)) from None
    with open_store(config.database_url) as store:
        reports = ingest_all(store, replace(config, sources=chosen), datetime.now(UTC))
    print_reports(reports)
    if any(report.error for report in reports):
        sys.exit(1)


def print_reports(reports: Sequence[SourceReport]) -> None:
    """One line per source, errors on standard error, then a line per skipped item."""
    for report in reports:
        click.echo(report.line, err=bool(report.error))
        for line in report.skipped:
            click.echo(line, err=True)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, for scripts.")
@click.option("--resume", metavar="NAME", default="", help="Reactivate the paused source NAME.")
def sources(config_path: Path, as_json: bool, resume: str) -> None:
    """List every configured source with its health, or resume a paused one."""
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        if resume:
            try:
                click.echo(resume_source(store, config, resume))
            except UsageError as e:
                raise click.UsageError(str(e)) from None
            return
        health = source_health(store, config)
    if as_json:
        click.echo(json.dumps([asdict(h) for h in health], indent=2, ensure_ascii=False))
        return
    header = ("source", "kind", "status", "last success", "failures", "location", "last error")
    rows = [
        (
            h.name,
            h.kind,
            h.status,
            h.last_success.replace("T", " ") or "never",
            str(h.consecutive_failures),
            h.location,
            h.last_error,
        )
        for h in health
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@click.command()
@click.argument("items", nargs=-1, required=True, metavar="FILE_OR_URL...")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Let URLs reach private, loopback or link-local addresses (a page on your machine).",
)
def extract(items: tuple[str, ...], allow_private: bool) -> None:
    """Print what intake makes of pages and feeds, one JSON object per article.

    Each FILE_OR_URL is a feed (one object per entry) or a web page (one object), told
    apart by content. Needs no config and no store. Exit 0 when all succeed, 1 when some
    failed (the rest are printed), 2 on a usage error.
    """
    failures: list[str] = []

    def failed(item: str, why: str) -> None:
        click.echo(f"error {item} {why}", err=True)
        failures.append(item)

    for record in extract_records(items, allow_private, failed):
        click.echo(json.dumps(record, ensure_ascii=False))
    if failures:
        sys.exit(1)
