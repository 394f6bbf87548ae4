"""Read an import file, CSV or JSON Lines, into validated rows and rejected lines.

CSV is read the way Excel writes it: UTF-8 with or without a byte-order mark, comma,
semicolon or tab (guessed from the header line, or Excel's ``sep=;`` first line), quoted
fields that may hold the delimiter, quotes and line breaks. A row's line number is the
physical line it starts on. Each rejected row keeps its original cells for the reject file.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO, TypeVar

from subscribers.errors import ImportFileError, ImportRowError
from subscribers.importer.rows import (
    FREQUENCIES,
    IGNORE,
    ColumnClashError,
    SubscriberRow,
    build,
    presence,
    targets,
)

FORMATS = ("csv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DELIMITERS = ",;\t"
_KNOWN_SHAPES = 1024  # distinct JSON key sets whose column targets are remembered
T = TypeVar("T")


class Parsed(NamedTuple):
    line: int
    row: SubscriberRow


class Rejected(NamedTuple):
    line: int
    error: ImportRowError
    original: tuple[str, ...]  # the CSV cells, or the JSON line


class _Layout(NamedTuple):
    """Where a CSV header's fields and attributes are: (index, field) and (index, name)."""

    fields: tuple[tuple[int, str], ...]
    attributes: tuple[tuple[int, str], ...]
    present: frozenset[str]
    width: int


def file_format(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        problem = f"{path}: cannot tell the format from the extension"
        raise ImportFileError(
            f"{problem}; name it .csv or .jsonl", f"{problem}; pass --format csv or jsonl"
        )
    return found


class RowReader:
    """Iterate over a file's rows; ``header`` is known once the first item is out."""

    def __init__(
        self,
        path: Path,
        fmt: str,
        mapping: Mapping[str, str],
        frequencies: Sequence[str] = FREQUENCIES,
    ) -> None:
        self.path = path
        self.frequencies = frequencies
        self.source = str(path)
        self.format = fmt
        self.mapping = mapping
        self.header: tuple[str, ...] = ("text",)

    def __iter__(self) -> Iterator[Parsed | Rejected]:
        with self._open() as handle:
            yield from self._csv(handle) if self.format == "csv" else self._jsonl(handle)

    def _open(self) -> TextIO:
        try:
            return self.path.open(encoding="utf-8-sig", newline="")
        except OSError as e:
            problem = f"{self.source}: cannot open the file ({e.strerror})"
            raise ImportFileError(f"{problem}; check the path", problem) from e

    def _csv(self, handle: TextIO) -> Iterator[Parsed | Rejected]:
        first = self._decode(handle.readline, 1)
        hint = first.strip().lower()
        skip = hint.startswith("sep=") and len(hint) == 5
        if not skip:
            handle.seek(0)
        reader = csv.reader(handle, delimiter=hint[4] if skip else _delimiter(first))
        header = self._decode(lambda: next(reader, None), 1)
        if not header:
            raise ImportFileError(f"{self.source}: empty file; the first line must name columns")
        self.header = tuple(header)
        try:
            chosen = targets(header, self.mapping)
        except ColumnClashError as e:
            where = f"{self.source}:{1 + skip}"
            raise ImportFileError(f"{where}: {e.plain}", f"{where}: {e}") from None
        self._check_header(header, chosen, 1 + skip)
        layout = _Layout(
            tuple((i, t) for i, t in enumerate(chosen) if t and not t.startswith("@")),
            tuple((i, t[1:]) for i, t in enumerate(chosen) if t.startswith("@")),
            presence(chosen),
            len(header),
        )
        end = reader.line_num + skip
        try:
            for cells in reader:
                line, end = end + 1, reader.line_num + skip
                if any(cells):
                    yield self._csv_row(line, cells, layout)
        except (UnicodeDecodeError, csv.Error) as e:
            raise self._unreadable(e, end + 1) from None

    def _check_header(self, header: list[str], chosen: list[str], line: int) -> None:
        names = {h.strip().lower() for h in header}
        for column in self.mapping:
            if column not in names:
                raise ImportFileError(
                    f"{self.source}:{line}: --map names column {column!r}, which the header "
                    f"does not have (it has {', '.join(repr(h) for h in header)})"
                )
        if "email" not in chosen:
            problem = f"{self.source}:{line}: no 'email' column in the header row"
            raise ImportFileError(
                f"{problem}; name one column email",
                f"{problem}; name one email, or pass --map COLUMN=email",
            )

    def _csv_row(self, line: int, cells: list[str], layout: _Layout) -> Parsed | Rejected:
        count = len(cells)
        if count > layout.width and any(c.strip() for c in cells[layout.width :]):
            return self._reject(
                line,
                f"{count} fields but the header has {layout.width} columns; "
                "quote fields that contain the delimiter",
                cells,
            )
        values = {field: cells[i] for i, field in layout.fields if i < count}
        extra: dict[str, Any] = {
            name: value
            for i, name in layout.attributes
            if i < count and (value := cells[i].strip())
        }
        try:
            return Parsed(line, build(values, extra, layout.present, self.frequencies))
        except ValueError as e:
            return self._reject(line, str(e), cells)

    def _jsonl(self, handle: TextIO) -> Iterator[Parsed | Rejected]:
        known: dict[tuple[str, ...], list[str]] = {}
        line = 0
        while True:
            line += 1
            text = self._decode(handle.readline, line)
            if not text:
                return
            if text.strip():
                yield self._json_row(line, text.rstrip("\r\n"), known)

    def _json_row(
        self, line: int, text: str, known: dict[tuple[str, ...], list[str]]
    ) -> Parsed | Rejected:
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            return self._reject(line, f"not valid JSON ({e.msg} at column {e.colno})", [text])
        if not isinstance(record, dict):
            return self._reject(line, 'not a JSON object; write one {"email": …} per line', [text])
        keys = tuple(str(k) for k in record)
        chosen = known.get(keys)
        if chosen is None:
            try:
                chosen = targets(keys, self.mapping)
            except ValueError as e:
                return self._reject(line, str(e), [text])
            if len(known) < _KNOWN_SHAPES:
                known[keys] = chosen
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for target, value in zip(chosen, record.values(), strict=True):
            if target.startswith("@"):
                if value is not None and value != "":
                    extra[target[1:]] = value
            elif target != IGNORE:
                values[target] = value
        try:
            return Parsed(line, build(values, extra, presence(chosen), self.frequencies))
        except ValueError as e:
            return self._reject(line, str(e), [text])

    def _reject(self, line: int, reason: str, original: list[str]) -> Rejected:
        return Rejected(line, ImportRowError(self.source, line, reason), tuple(original))

    def _decode(self, read: Callable[[], T], line: int) -> T:
        try:
            return read()
        except (UnicodeDecodeError, csv.Error) as e:
            raise self._unreadable(e, line) from None

    def _unreadable(self, error: Exception, line: int) -> ImportFileError:
        if isinstance(error, UnicodeDecodeError):  # the text reader decodes lines ahead
            return ImportFileError(
                f"{self.source}:{_first_bad_line(self.path, line)}: not UTF-8 text; "
                "save the file as UTF-8 (in Excel: CSV UTF-8)"
            )
        return ImportFileError(
            f"{self.source}:{line}: unreadable CSV ({error}); check the quotes from this line on"
        )


def _first_bad_line(path: Path, otherwise: int) -> int:
    """The physical line, from 1, that holds the file's first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as e:  # e.object: bytes held back, then chunk
                    return line + e.object.count(b"\n", 0, e.start)
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line  # a sequence cut short by the end of the file
    except OSError:
        pass
    return otherwise


def _delimiter(line: str) -> str:
    """The delimiter used most often outside quotes in the header line; comma on a tie."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","
