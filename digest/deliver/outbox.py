"""The outbox backend: one .eml file per message, written atomically, never twice."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from digest.deliver.message import Outgoing, Recipient, build_message, message_id
from digest.deliver.protocol import BatchOutcome, unbuildable
from digest.errors import DeliveryError

UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
NAME_LENGTH = 200  # of the address in a file name: the whole name must stay under 255 bytes


def edition_folder(root: Path, segment: str, edition_id: int) -> Path:
    return root / UNSAFE.sub("_", segment) / f"edition-{edition_id}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it into place.

    The temporary name ends in ``.tmp``, never in the final suffix: a process killed
    mid-write leaves a hidden ``.tmp-*.tmp`` file that no reader of ``*.eml`` picks up.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


STALE_SECONDS = 600  # a temporary file this old was left by a killed writer


def sweep_stale(folder: Path, now: float) -> int:
    """Remove the temporary files that killed writers left in ``folder``; a young one may
    belong to a writer at work in another process, and stays. Returns how many went."""
    removed = 0
    for leftover in folder.glob(".tmp-*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
                removed += 1
        except FileNotFoundError:  # renamed into place or removed meanwhile
            continue
    return removed


class OutboxBackend:
    name = "outbox"
    idempotent = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self._swept: set[Path] = set()

    def path_for(self, outgoing: Outgoing, recipient: Recipient) -> Path:
        folder = edition_folder(self.root, outgoing.segment, outgoing.edition_id)
        address = UNSAFE.sub("_", recipient.email)[:NAME_LENGTH]
        return folder / f"{recipient.delivery_id:07d}-{address}.eml"

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        outcome = BatchOutcome()
        date = format_datetime(datetime.now(UTC))
        folder = edition_folder(self.root, outgoing.segment, outgoing.edition_id)
        if folder not in self._swept:  # once per edition and process: after a crash, resumed
            self._swept.add(folder)
            if folder.is_dir():
                sweep_stale(folder, time.time())
        for recipient in recipients:
            path = self.path_for(outgoing, recipient)
            if not path.exists():  # a resumed batch keeps the file already written
                try:
                    data = build_message(outgoing, recipient, date=date).as_bytes()
                except Exception as e:  # this recipient's message alone: it fails, the rest go
                    outcome.failed[recipient.delivery_id] = unbuildable(e)
                    continue
                try:
                    write_atomically(path, data)
                except OSError as e:
                    raise DeliveryError(f"cannot write {path}: {e.strerror}") from e
            outcome.accepted[recipient.delivery_id] = message_id(outgoing, recipient)
        return outcome

    def close(self) -> None:
        return None
