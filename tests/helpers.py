"""Helpers shared by the tests: the example newsroom, a config on a given store, and the
test-only shortcuts into the run (one segment, one whole delivery)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from digest.config import Config
from digest.deliver import ledger
from digest.deliver.batches import BackendFactory
from digest.deliver.send import start_delivery
from digest.intake.clean import clean_paragraphs
from digest.run.delivery import delivery_settings
from digest.run.report import SegmentReport
from digest.run.segments import SegmentRun
from digest.settings import SegmentSettings
from digest.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "newsroom"


def use_database(config_path: Path, url: str) -> None:
    """Point a copied config at ``url`` by setting [digest] database_url."""
    body = config_path.read_text(encoding="utf-8")
    line = f"database_url = {url!r}\n".replace("'", '"')
    if re.search(r"^\[digest\]\s*$", body, flags=re.M):
        body = re.sub(
            r"^\[digest\]\s*$", "[digest]\n" + line.rstrip("\n"), body, count=1, flags=re.M
        )
    else:
        body = "[digest]\n" + line + body
    config_path.write_text(body, encoding="utf-8")


def run_segment(
    store: Store,
    config: Config,
    backend: str,
    segment: SegmentSettings,
    now: datetime,
    slot: str,
) -> SegmentReport:
    """One segment's turn, as a run takes it, waited for to the end."""
    run = SegmentRun(store, config, delivery_settings(config), backend)
    return run.start(segment, now, slot)()


def deliver(
    store: Store, config: Config, make_backend: BackendFactory, edition_id: int, **options: Any
) -> ledger.Counts:
    """Send every pending batch of the edition through ``make_backend`` and wait for it."""
    settings = delivery_settings(config)
    return start_delivery(store, settings, make_backend, edition_id, **options).finish()


def clean_text(paragraphs: Sequence[str], *, title: str = "", author: str = "") -> str:
    """Cleaned plain text, paragraphs separated by blank lines."""
    return "\n\n".join(clean_paragraphs(paragraphs, title=title, author=author))
