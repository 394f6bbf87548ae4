"""``digest subscribers`` (import, export, and the privacy requests export-one and erase) and
``digest segments`` (each segment's audience rule and how many people it reaches)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from digest.commands.options import config_option
from digest.config import Config, load_config
from digest.deliver.recipients import segment_rule
from digest.errors import StoreError
from digest.run.privacy import erase_person, personal_data
from digest.run.subscribers_file import AudienceReport
from digest.settings import AUDIENCE_KEYS, SegmentSettings
from digest.store.database import open_store
from subscribers import exporter
from subscribers.audience import sizes
from subscribers.importer import (
    ImportOptions,
    ImportRejectedError,
    ImportReport,
    import_file,
    parse_mapping,
)
from subscribers.importer.readers import FORMATS
from subscribers.models import Status


@click.group("subscribers")
def subscribers_group() -> None:
    """Import and export subscribers; answer access and erasure requests."""


@subscribers_group.command("import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the extension.")
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN as FIELD, e.g. 'E-mail=email', 'Team=attributes.team', 'Notes=-'.",
)
@click.option("--skip-invalid", is_flag=True, help="Import the good rows; reject the bad ones.")
@click.option(
    "--replace-lists",
    is_flag=True,
    help="Make each known reader's lists those of their row (default: add the row's lists).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Reject file for --skip-invalid.  [default: <name>.rejects.csv beside FILE]",
)
@click.option(
    "--status",
    type=click.Choice([Status.active.value, Status.pending.value]),
    default=Status.active.value,
    show_default=True,
    help="Status of new subscribers whose row has none (pending: they must confirm).",
)
def import_command(
    config_path: Path,
    file: Path,
    fmt: str | None,
    mappings: tuple[str, ...],
    skip_invalid: bool,
    replace_lists: bool,
    rejects: Path | None,
    status: str,
) -> None:
    """Import subscribers from CSV or JSON Lines.

    Rows are merged by address. All rows or none, unless --skip-invalid; an import never
    re-activates an unsubscribed, bounced, complained or erased address. A row's lists are
    added to the reader's; --replace-lists removes the others, and says how many.
    """
    try:
        mapping = parse_mapping(mappings)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--map") from None
    config = load_config(config_path)
    frequencies = tuple(config.web.frequencies)
    options = ImportOptions(
        fmt,
        mapping,
        Status(status),
        skip_invalid,
        rejects,
        frequencies,
        replace_lists=replace_lists,
        known_lists=config.segment_lists,
    )
    with open_store(config.database_url) as store:
        try:
            with store.engine.begin() as connection:
                report = import_file(connection, file, options, datetime.now(UTC))
        except ImportRejectedError as e:
            _print_findings(e.report)
            raise
        except SQLAlchemyError as e:
            reason = str(getattr(e, "orig", None) or e).splitlines()[0]
            raise StoreError(
                f"{file}: the database refused the import ({reason}); nothing was imported"
            ) from e
    _print_findings(report)
    _print_unknown_lists(report, config)
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


def print_merge(audience: AudienceReport, config: Config) -> None:
    """Print what a run's merge of the subscribers file did, or why it could not."""
    if audience.error:
        click.echo(f"error: {audience.error}", err=True)
        return
    merged = audience.merged
    for note in merged.notes:
        click.echo(f"note: {note}", err=True)
    for problem in merged.problems:
        click.echo(f"skipped {problem}", err=True)
    _print_unknown_lists(merged, config)
    skipped = f"{len(merged.problems)} skipped"
    click.echo(f"subscribers: {merged.counts()}, {skipped}{merged.removals()}")


@subscribers_group.command("export")
@config_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (replaced when complete) instead of standard output.",
)
def export_command(config_path: Path, fmt: str, status: str | None, output: Path | None) -> None:
    """Write every subscriber, with all fields.

    CSV or JSON Lines, in the form `digest subscribers import` reads back.
    """
    config = load_config(config_path)
    wanted = Status(status) if status else None
    with open_store(config.database_url) as store, store.engine.connect() as connection:
        rows = exporter.records(connection, wanted)
        if output is None:
            exporter.write(rows, sys.stdout, fmt)
            return
        count = exporter.write_file(rows, output, fmt)
    click.echo(f"exported {count} subscribers to {output}", err=True)


@subscribers_group.command("export-one")
@config_option
@click.argument("email")
def export_one(config_path: Path, email: str) -> None:
    """Print all data held about one person (JSON).

    Every field, lists, tags, attributes, suppression, and the editions sent to them.
    """
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        data = personal_data(store, email)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@subscribers_group.command("erase")
@config_option
@click.argument("email")
def erase(config_path: Path, email: str) -> None:
    """Erase a person; their address stays blocked.

    Personal data is removed, the ledger scrubbed, and the address's SHA-256 kept on the
    suppression list so that it is never mailed again.
    """
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        done = erase_person(store, email, datetime.now(UTC))
    click.echo(
        f"erased {done.address}: personal data removed, {done.ledger_rows} ledger rows "
        f"scrubbed, address suppressed (now subscriber {done.subscriber_id}, {done.placeholder})"
    )


def _print_findings(report: ImportReport) -> None:
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for problem in report.problems:
        click.echo(str(problem), err=True)


def _print_unknown_lists(report: ImportReport, config: Config) -> None:
    for unknown in report.unknown_lists:
        rows = f"{unknown.rows} row{'s' * (unknown.rows != 1)}"
        click.echo(
            f"warning: {report.source}:{unknown.line}: list {unknown.name!r} ({rows}) is in no "
            f"segment's lists in {config.path}; add it to a segment's lists, or fix the spelling",
            err=True,
        )


@dataclass(frozen=True)
class SegmentAudience:
    segment: str
    matching: int
    sendable: int
    personalised: bool
    rule: str
    settings: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "matching": self.matching,
            "sendable": self.sendable,
            "personalised": self.personalised,
            "rule": self.rule,
            "audience": self.settings,
        }

    def as_text(self) -> str:
        return (
            f"{self.segment}: {self.matching} matching, {self.sendable} active (sendable), "
            f"personalised {'yes' if self.personalised else 'no'}\n  {self.rule}"
        )


def audience_settings(segment: SegmentSettings) -> dict[str, object]:
    """The segment's audience keys as written in the config, lists as JSON lists."""
    out: dict[str, object] = {}
    for key in sorted(AUDIENCE_KEYS):
        value = getattr(segment, key)
        if isinstance(value, dict):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per segment.")
def segments(config_path: Path, as_json: bool) -> None:
    """Show each segment's audience rule, how many it matches and how many are sendable."""
    config = load_config(config_path)
    with open_store(config.database_url) as store, store.session() as session:
        found = []
        for segment in config.segments.values():
            rule = segment_rule(segment)
            matching, sendable = sizes(session, rule)
            found.append(
                SegmentAudience(
                    segment.name,
                    matching,
                    sendable,
                    segment.personalised,
                    rule.describe(),
                    audience_settings(segment),
                )
            )
    for each in found:
        click.echo(json.dumps(each.as_json()) if as_json else each.as_text())
