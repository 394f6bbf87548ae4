"""Merge the configured subscribers file (``[audience] subscribers_file``) at each run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digest.config import Config
from digest.store.database import Store
from subscribers.errors import ImportFileError
from subscribers.importer import ImportOptions, ImportReport, import_file


@dataclass(frozen=True)
class AudienceReport:
    merged: ImportReport  # rows skipped are its problems
    error: str = ""  # the file could not be used at all: nothing was merged


def merge_subscribers_file(store: Store, config: Config, now: datetime) -> AudienceReport | None:
    """Merge ``[audience] subscribers_file`` as ``subscribers import --skip-invalid`` does,
    with no reject file; a file that cannot be used at all merges nothing and sets ``error``."""
    setting = config.audience.subscribers_file
    if not setting:
        return None
    path = config.resolve(setting)
    options = ImportOptions(
        "csv",
        skip_invalid=True,
        frequencies=tuple(config.web.frequencies),
        replace_lists=config.audience.replace_lists,
        known_lists=config.segment_lists,
        write_rejects=False,
    )
    try:
        with store.session() as session:
            return AudienceReport(import_file(session.connection(), path, options, now))
    except ImportFileError as e:
        why = f"{config.path}: [audience] subscribers_file {setting!r} is unusable: {e.plain}"
        return AudienceReport(ImportReport(source=str(path)), why + "; nothing was merged")
