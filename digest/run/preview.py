"""Previews to open in a browser: an edition's or a draft's HTML, with sample values where a
reader's name and links go. One writer serves both."""

from __future__ import annotations

from pathlib import Path

from digest.deliver.message import Recipient, personalise
from digest.deliver.outbox import UNSAFE, edition_folder, write_atomically
from digest.render.email import Rendered
from digest.settings import SenderSettings


def sample_reader(sender: SenderSettings) -> Recipient:
    """The values a preview shows where a reader's name and links go."""
    base = sender.base_url.rstrip("/")
    return Recipient(0, "", "", f"{base}/unsubscribe", f"{base}/preferences", "")


def write_preview(sender: SenderSettings, rendered: Rendered, path: Path) -> Path:
    """Write ``rendered``'s HTML to ``path`` with a sample reader's values; return ``path``."""
    sample = sample_reader(sender)
    write_atomically(path, personalise(rendered, sample, "html").encode("utf-8"))
    return path


def edition_preview(outbox: Path, segment: str, edition_id: int) -> Path:
    """Where an edition's preview goes: beside its messages in the outbox."""
    return edition_folder(outbox, segment, edition_id) / "preview.html"


def draft_preview(outbox: Path, segment: str) -> Path:
    """Where the preview of a segment's next edition goes: ``preview-SEGMENT.html``."""
    return outbox / f"preview-{UNSAFE.sub('_', segment)}.html"
