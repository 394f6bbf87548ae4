"""Which sources a run covers, and what the store knows of each one's health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from digest.config import Config
from digest.errors import UsageError
from digest.settings import SourceSettings
from digest.store.database import Store
from digest.store.models import Source, SourceStatus

NAME_LIMIT = 200  # the store's limit on a source's name


def choose_sources(config: Config, arguments: Sequence[str]) -> tuple[SourceSettings, ...]:
    """The sources a run covers; raise UsageError for an argument that is none."""
    configured = {source.name: source for source in config.sources}
    named = [configured[a] for a in dict.fromkeys(arguments) if a in configured]
    extra: list[SourceSettings] = []
    for argument in dict.fromkeys(a for a in arguments if a not in configured):
        if len(argument) > NAME_LIMIT:
            raise UsageError(
                f"{argument[:60]}… is longer than {NAME_LIMIT} characters; "
                "configure it as [sources.NAME] instead"
            )
        if argument.startswith(("http://", "https://")):
            extra.append(SourceSettings(name=argument, url=argument))
        elif Path(argument).is_file():
            extra.append(SourceSettings(name=argument, path=str(Path(argument).resolve())))
        else:
            known = ", ".join(configured) or "none are configured"
            raise UsageError(
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
        raise UsageError(f"unknown source {name!r}: choose one of {known}")
    with store.session() as session:
        row = session.scalar(select(Source).where(Source.name == name))
        if row is None or row.status == SourceStatus.active:
            return f"{name} is active already"
        was = str(row.status)
        row.status, row.consecutive_failures = SourceStatus.active, 0
    return f"resumed {name} (it was {was}); the next ingest fetches it"
