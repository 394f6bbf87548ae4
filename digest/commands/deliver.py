"""`digest status`, `digest resume` and `digest worker`: the ledger, for operators."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from digest.commands.options import backend_option, config_option
from digest.config import load_config
from digest.deliver import shutdown
from digest.deliver.backends import make_backend
from digest.deliver.status import EditionStatusReport, statuses
from digest.deliver.worker import Worker
from digest.errors import DigestError
from digest.run.delivery import delivery_settings
from digest.run.report import SegmentReport
from digest.run.sending import resume_edition, send_workers, unfinished_editions
from digest.run.waves import zones_of
from digest.store.database import open_store


@click.command()
@config_option
@click.option("--edition", "edition_id", type=int, default=None, help="Only this edition.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per edition.")
def status(config_path: Path, edition_id: int | None, as_json: bool) -> None:
    """Show each edition's recipients: sent, failed, pending and in doubt."""
    config = load_config(config_path)
    with open_store(config.database_url) as store, store.session() as session:
        reports = statuses(session, edition_id, zones=zones_of(config))
    if edition_id is not None and not reports:
        raise DigestError(f"no edition {edition_id}; `digest status` lists them")
    if not reports:  # with --json, standard output stays empty JSON Lines
        click.echo("no editions yet; `digest run` or `digest send` makes the first", err=as_json)
    for report in reports:
        click.echo(json.dumps(report.as_json()) if as_json else _describe(report))


def _describe(r: EditionStatusReport) -> str:
    lines = [
        f"edition {r.edition} {r.segment} ({r.slot}) {r.status} via {_backends(r)}: "
        f"{r.recipients} recipients, {r.sent} sent, {r.failed} failed, {r.pending} pending, "
        f"{r.in_doubt} in doubt"
    ]
    for number, wave in enumerate(r.waves, start=1):
        readers = f"{wave.readers} reader{'' if wave.readers == 1 else 's'}"
        lines.append(f"  wave {number} of {len(r.waves)} at {wave.label}: {readers}, {wave.state}")
    for reason, count in r.failure_reasons.items():
        lines.append(f"  {count} failed: {reason}")
    for b in r.failed_batches:
        lines.append(f"  failed batch {b.number} ({b.size}): {b.error}")
    for b in r.doubtful_batches:
        lines.append(
            f"  in doubt batch {b.number} ({b.size}): a sender stopped after handing it over; "
            f"{b.resolution or 'unresolved'}"
        )
    return "\n".join(lines)


def _backends(r: EditionStatusReport) -> str:
    """The backends that accepted batches, with how many; before any did, the one the
    edition was started with."""
    if not r.backends:
        return r.backend
    return ", ".join(
        f"{name} ({n} batch{'' if n == 1 else 'es'})" for name, n in r.backends.items()
    )


@click.command()
@config_option
@backend_option
def resume(config_path: Path, backend: str | None) -> None:
    """Continue every unfinished edition from the ledger."""
    config = load_config(config_path)
    settings = delivery_settings(config)
    with open_store(config.database_url) as store:
        unfinished = unfinished_editions(store)
        with send_workers(store, settings) as workers:
            reports: list[SegmentReport] = [
                resume_edition(
                    store, settings, backend or "", edition, workers, zones=zones_of(config)
                )
                for edition in unfinished
            ]
    if not reports:
        click.echo("nothing to resume")
    for r in reports:
        click.echo(
            f"{r.segment}: {r.recipients} recipients, {r.written} {r.delivered} now"
            + (f" ({r.note})" if r.note else "")
        )
    if any(r.failed for r in reports):
        sys.exit(1)


@click.command()
@config_option
def worker(config_path: Path) -> None:
    """Send every edition being sent, batch by batch, until stopped (on any machine)."""
    config = load_config(config_path)
    settings = delivery_settings(config)
    make_backend(settings).close()  # the configured backend's settings and secret, first

    def say(line: str) -> None:
        stamp = datetime.now(config.zone).isoformat(timespec="seconds")
        click.echo(f"{stamp} {line}")

    with open_store(config.database_url) as store, shutdown.on_signals():
        Worker(store, settings, say).run()
