"""Import subscribers from CSV or JSON Lines and merge them into the store.

Every row is untrusted: a bad row yields one :class:`ImportRowError` naming the file and
line. By default an import is all or nothing (one transaction, rolled back when any row is
bad); with ``skip_invalid`` the good rows go in and the bad ones go to a reject file. The
same address twice in a file: the later row wins, and the report says so. A merge never
re-activates an address that unsubscribed, bounced, complained or was erased.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from subscribers.errors import AudienceError, ImportRowError
from subscribers.importer.addresses import email_hash, normalise_email
from subscribers.importer.readers import Parsed, Rejected, RowReader, file_format
from subscribers.importer.rejects import RejectFile
from subscribers.importer.rows import FREQUENCIES, SubscriberRow, parse_mapping
from subscribers.importer.upsert import Outcome, merge_chunk
from subscribers.models import Status

__all__ = [
    "ImportOptions",
    "ImportRejectedError",
    "ImportReport",
    "MergeResult",
    "SubscriberRow",
    "email_hash",
    "import_file",
    "merge",
    "normalise_email",
    "parse_mapping",
    "read_csv",
]

CHUNK = 10_000
_UNWRITTEN = 7  # low three bits of a ``seen`` entry: the outcome, or not yet merged


@dataclass
class MergeResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_suppressed: int = 0

    def count(self, outcome: Outcome, by: int = 1) -> None:
        name = outcome.name
        setattr(self, name, getattr(self, name) + by)


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None  # "csv" or "jsonl"; None: from the file's extension
    mapping: dict[str, str] = field(default_factory=dict)  # from parse_mapping
    status: Status = Status.active  # for new subscribers whose row gives none
    skip_invalid: bool = False
    rejects: Path | None = None  # default: <name>.rejects.csv next to the input
    frequencies: tuple[str, ...] = FREQUENCIES  # the frequencies a subscriber may have


@dataclass
class ImportReport(MergeResult):
    source: str = ""
    problems: list[ImportRowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects: Path | None = None

    def summary(self) -> str:
        line = (
            f"{self.source}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.kept_suppressed} kept suppressed, "
            f"{len(self.problems)} rejected"
        )
        return line + (f" (written to {self.rejects})" if self.rejects else "")


class ImportRejectedError(AudienceError):
    """An all-or-nothing import met bad rows and imported nothing."""

    def __init__(self, report: ImportReport) -> None:
        count = len(report.problems)
        super().__init__(
            f"{report.source}: nothing imported: {count} row{'s' * (count != 1)} with problems; "
            "fix them, or pass --skip-invalid to import the other rows"
        )
        self.report = report


def read_csv(path: Path) -> Iterator[SubscriberRow | ImportRowError]:
    """Yield a row or a row error for each data line of a subscribers CSV."""
    for item in RowReader(path, "csv", {}):
        yield item.row if isinstance(item, Parsed) else item.error


def merge(
    session: Session, rows: Iterable[SubscriberRow], now: datetime, status: Status = Status.active
) -> MergeResult:
    """Insert new subscribers and update known ones; suppressed ones stay suppressed."""
    session.flush()
    latest: dict[str, SubscriberRow] = {}
    for row in rows:
        email = row.email.strip().lower()
        latest[email] = row if email == row.email else replace(row, email=email)
    batch = list(latest.values())
    result = MergeResult()
    for start in range(0, len(batch), CHUNK):
        outcomes = merge_chunk(session.connection(), batch[start : start + CHUNK], now, status)
        for outcome in outcomes.values():
            result.count(outcome)
    session.expire_all()
    return result


def import_file(
    connection: Connection, path: Path, options: ImportOptions, now: datetime
) -> ImportReport:
    """Read, validate and merge a file inside the caller's transaction.

    Raises :class:`ImportRejectedError` (so that the caller rolls back) when a row is bad
    and ``skip_invalid`` is off; the error's report lists every problem.
    """
    fmt = file_format(path, options.format)
    reader = RowReader(path, fmt, options.mapping, options.frequencies)
    report = ImportReport(source=str(path))
    tally = _Tally(report)
    rejects: RejectFile | None = None
    try:
        for item in reader:
            if isinstance(item, Rejected):
                report.problems.append(item.error)
                if options.skip_invalid:
                    if rejects is None:
                        target = options.rejects or path.with_name(f"{path.stem}.rejects.csv")
                        rejects = RejectFile(target, reader.header)
                    rejects.write(item)
                continue
            tally.add(item)
            if report.problems and not options.skip_invalid:
                tally.pending.clear()  # nothing will be written: keep validating, hold nothing
            elif len(tally.pending) >= CHUNK:
                tally.flush(connection, now, options.status)
        if report.problems and not options.skip_invalid:
            raise ImportRejectedError(report)
        tally.flush(connection, now, options.status)
        if rejects is not None:
            report.rejects = rejects.commit()
    finally:
        if rejects is not None:
            rejects.discard()
    return report


class _Tally:
    """Pending rows of the current chunk, and every address seen: last line and outcome."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.pending: dict[str, SubscriberRow] = {}
        self.seen: dict[str, int] = {}  # address -> line << 3 | outcome

    def add(self, item: Parsed) -> None:
        email = item.row.email
        earlier = self.seen.get(email)
        if earlier is None:
            self.seen[email] = item.line << 3 | _UNWRITTEN
        else:
            self.report.notes.append(
                f"{self.report.source}:{item.line}: {email} is also on line {earlier >> 3}; "
                "the later row wins"
            )
            self.seen[email] = item.line << 3 | earlier & 7
        self.pending.pop(email, None)
        self.pending[email] = item.row

    def flush(self, connection: Connection, now: datetime, status: Status) -> None:
        if not self.pending:
            return
        outcomes = merge_chunk(connection, list(self.pending.values()), now, status)
        self.pending.clear()
        report = self.report
        for email, outcome in outcomes.items():
            packed = self.seen[email]
            before = packed & 7
            if before == _UNWRITTEN:
                report.count(outcome)
                self.seen[email] = packed & ~7 | outcome
            elif before == Outcome.unchanged and outcome == Outcome.updated:
                report.count(Outcome.unchanged, -1)
                report.count(Outcome.updated)
                self.seen[email] = packed & ~7 | outcome
