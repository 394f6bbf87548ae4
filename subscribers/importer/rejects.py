"""The reject file of an import: the bad rows as they were, plus an ``error`` column.

It is a CSV with the input's own header (``text`` for JSON Lines) and ``error`` last, whose
value starts with the row's line number. It is written with a byte-order mark, so that
Excel opens it as UTF-8, to a temporary file first and moved into place when complete.
Drop the ``error`` column (or pass ``--map error=-``) to import the fixed rows.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from subscribers.errors import ImportFileError
from subscribers.importer.readers import Rejected


class RejectFile:
    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.width = len(header)
        try:
            descriptor, temporary = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
        except OSError as e:
            raise ImportFileError(f"{path}: cannot write the reject file ({e.strerror})") from e
        self._temporary: Path | None = Path(temporary)
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow([*header, "error"])

    def write(self, item: Rejected) -> None:
        cells = list(item.original)
        padded = cells[: self.width] + [""] * (self.width - len(cells))
        self._writer.writerow(
            [*padded, f"line {item.line}: {item.error.reason}", *cells[self.width :]]
        )

    def commit(self) -> Path:
        self._handle.close()
        if self._temporary is not None:
            os.replace(self._temporary, self.path)
            self._temporary = None
        return self.path

    def discard(self) -> None:
        self._handle.close()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None
