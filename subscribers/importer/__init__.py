"""Import subscribers from CSV or JSON Lines and merge them into the store.

Every row is untrusted: a bad row yields one :class:`ImportRowError` naming the file and
line. By default an import is all or nothing (one transaction, rolled back when any row is
bad); with ``skip_invalid`` the good rows go in and the bad ones go to a reject file. The
same address twice in a file: the later row wins, and the report says so. A merge never
re-activates an address that unsubscribed, bounced, complained or was erased. A row's lists
are added to the reader's (``replace_lists`` makes them the reader's only lists, and the
report counts the memberships that removed). Merges wait for each other (one at a time).
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
from subscribers.importer.upsert import Outcome, hold_merge_lock, merge_chunk
from subscribers.models import Status

__all__ = [
    "ImportOptions",
    "ImportRejectedError",
    "ImportReport",
    "MergeResult",
    "SubscriberRow",
    "UnknownList",
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
    lists_removed: int = 0  # memberships dropped by replace_lists
    replaced_lists: bool = False

    def count(self, outcome: Outcome, by: int = 1) -> None:
        name = outcome.name
        setattr(self, name, getattr(self, name) + by)

    def counts(self) -> str:
        """``1 added, 2 updated, 3 unchanged, 0 kept suppressed``"""
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.kept_suppressed} kept suppressed"
        )

    def removals(self) -> str:
        """``, 12 list memberships removed`` when lists were replaced; else nothing."""
        if not self.replaced_lists:
            return ""
        count = self.lists_removed
        return f", {count} list membership{'s' * (count != 1)} removed"


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None  # "csv" or "jsonl"; None: from the file's extension
    mapping: dict[str, str] = field(default_factory=dict)  # from parse_mapping
    status: Status = Status.active  # for new subscribers whose row gives none
    skip_invalid: bool = False
    rejects: Path | None = None  # default: <name>.rejects.csv next to the input
    frequencies: tuple[str, ...] = FREQUENCIES  # the frequencies a subscriber may have
    replace_lists: bool = False  # a row's lists replace the reader's instead of adding
    known_lists: frozenset[str] | None = None  # lists in use; others are reported
    write_rejects: bool = True  # with skip_invalid: keep the bad rows in a reject file


@dataclass(frozen=True)
class UnknownList:
    """A list that the file names and ``known_lists`` does not have."""

    name: str
    line: int  # the first row naming it
    rows: int


@dataclass
class ImportReport(MergeResult):
    source: str = ""
    problems: list[ImportRowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects: Path | None = None
    unknown_lists: list[UnknownList] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.source}: {self.counts()}, {len(self.problems)} rejected" + (
            f" (written to {self.rejects})" if self.rejects else ""
        )
        return line + self.removals()


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
    session: Session,
    rows: Iterable[SubscriberRow],
    now: datetime,
    status: Status = Status.active,
    replace_lists: bool = False,
) -> MergeResult:
    """Insert new subscribers and update known ones; suppressed ones stay suppressed."""
    session.flush()
    latest: dict[str, SubscriberRow] = {}
    for row in rows:
        email = row.email.strip().lower()
        latest[email] = row if email == row.email else replace(row, email=email)
    batch = list(latest.values())
    result = MergeResult(replaced_lists=replace_lists)
    connection = session.connection()
    hold_merge_lock(connection)
    for start in range(0, len(batch), CHUNK):
        merged = merge_chunk(connection, batch[start : start + CHUNK], now, status, replace_lists)
        for outcome in merged.outcomes.values():
            result.count(outcome)
        result.lists_removed += merged.lists_removed
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
    report = ImportReport(source=str(path), replaced_lists=options.replace_lists)
    tally = _Tally(report, options)
    rejects: RejectFile | None = None
    try:
        for item in reader:
            if isinstance(item, Rejected):
                report.problems.append(item.error)
                if options.skip_invalid and options.write_rejects:
                    if rejects is None:
                        target = options.rejects or path.with_name(f"{path.stem}.rejects.csv")
                        rejects = RejectFile(target, reader.header)
                    rejects.write(item)
                continue
            tally.add(item)
            if report.problems and not options.skip_invalid:
                tally.pending.clear()  # nothing will be written: keep validating, hold nothing
            elif len(tally.pending) >= CHUNK:
                tally.flush(connection, now)
        if report.problems and not options.skip_invalid:
            raise ImportRejectedError(report)
        tally.flush(connection, now)
        report.unknown_lists = tally.unknown_lists()
        if rejects is not None:
            report.rejects = rejects.commit()
    finally:
        if rejects is not None:
            rejects.discard()
    return report


class _Tally:
    """Pending rows of the current chunk, and every address seen: last line and outcome."""

    def __init__(self, report: ImportReport, options: ImportOptions) -> None:
        self.report = report
        self.options = options
        self.pending: dict[str, SubscriberRow] = {}
        self.seen: dict[str, int] = {}  # address -> line << 3 | outcome
        self.unknown: dict[str, list[int]] = {}  # list name -> [first line, rows]
        self.locked = False

    def add(self, item: Parsed) -> None:
        known = self.options.known_lists
        if known is not None and item.row.lists:
            for name in item.row.lists:
                if name not in known:
                    self.unknown.setdefault(name, [item.line, 0])[1] += 1
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

    def unknown_lists(self) -> list[UnknownList]:
        return [UnknownList(name, line, rows) for name, (line, rows) in self.unknown.items()]

    def flush(self, connection: Connection, now: datetime) -> None:
        if not self.pending:
            return
        if not self.locked:  # taken once per transaction, before the first read
            hold_merge_lock(connection)
            self.locked = True
        options = self.options
        rows = list(self.pending.values())
        merged = merge_chunk(connection, rows, now, options.status, options.replace_lists)
        self.pending.clear()
        report = self.report
        report.lists_removed += merged.lists_removed
        for email, outcome in merged.outcomes.items():
            packed = self.seen[email]
            before = packed & 7
            if before == _UNWRITTEN:
                report.count(outcome)
                self.seen[email] = packed & ~7 | outcome
            elif before == Outcome.unchanged and outcome == Outcome.updated:
                report.count(Outcome.unchanged, -1)
                report.count(Outcome.updated)
                self.seen[email] = packed & ~7 | outcome
