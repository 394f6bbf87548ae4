"""``digest ingest`` and ``digest sources``: intake and source health from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from digest.config import Config, load_config
from digest.intake.ingest import SourceReport, ingest_all
from digest.options import config_option
from digest.settings import SourceSettings
from digest.store.database import Store, open_store
from digest.store.models import Source, SourceStatus

NAME_LIMIT = 200  # the store's limit on a source's name


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
    chosen = choose_sources(config, sources)
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


def choose_sources(config: Config, arguments: Sequence[str]) -> tuple[SourceSettings, ...]:
    """The sources a run covers; raise click.UsageError for an argument that is none."""
    configured = {source.name: source for source in config.sources}
    named = [configured[a] for a in dict.fromkeys(arguments) if a in configured]
    extra: list[SourceSettings] = []
    for argument in dict.fromkeys(a for a in arguments if a not in configured):
        if len(argument) > NAME_LIMIT:
            raise click.UsageError(
                f"{argument[:60]}… is longer than {NAME_LIMIT} characters; "
                "configure it as [sources.NAME] instead"
            )
        if argument.startswith(("http://", "https://")):
            extra.append(SourceSettings(name=argument, url=argument))
        elif Path(argument).is_file():
            extra.append(SourceSettings(name=argument, path=str(Path(argument).resolve())))
        else:
            known = ", ".join(configured) or "none are configured"
            raise click.UsageError(
                f"{argument!r} is not a configured source ({known}), an existing file "
                "or an http(s) URL"
            )
    return (*(named or config.sources), *extra)


@dataclass(frozen=True)
class SourceHealth:
    name: str
    kind: str
    location: str
    status: str
    last_success: str  # ISO 8601, or "" when never
    consecutive_failures: int
    last_error: str


def source_health(store: Store, config: Config) -> list[SourceHealth]:
    """Every configured source with what the store knows of its health."""
    with store.session() as session:
        rows = {row.name: row for row in session.scalars(select(Source))}
    health = []
    for source in config.sources:
        row = rows.get(source.name)
        configured = source.url or str(config.resolve(source.path))
        when = row.last_success_at if row else None
        health.append(
            SourceHealth(
                name=source.name,
                kind=source.kind,
                location=row.location if row else configured,
                status=str(row.status) if row else str(SourceStatus.active),
                last_success=when.isoformat(timespec="seconds") if when else "",
                consecutive_failures=row.consecutive_failures if row else 0,
                last_error=row.last_error if row else "",
            )
        )
    return health


def resume_source(store: Store, config: Config, name: str) -> str:
    """Make a paused (or retired) source active again; the line to print."""
    if name not in {source.name for source in config.sources}:
        known = ", ".join(source.name for source in config.sources) or "none are configured"
        raise click.UsageError(f"unknown source {name!r}: choose one of {known}")
    with store.session() as session:
        row = session.scalar(select(Source).where(Source.name == name))
        if row is None or row.status == SourceStatus.active:
            return f"{name} is active already"
        was = str(row.status)
        row.status, row.consecutive_failures = SourceStatus.active, 0
    return f"resumed {name} (it was {was}); the next ingest fetches it"


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, for scripts.")
@click.option("--resume", metavar="NAME", default="", help="Reactivate the paused source NAME.")
def sources(config_path: Path, as_json: bool, resume: str) -> None:
    """List every configured source with its health, or resume a paused one."""
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        if resume:
            click.echo(resume_source(store, config, resume))
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
