"""Golden files for what readers see: one edition holding the seed article.

Regenerate after an intended change with ``DIGEST_REGENERATE_GOLDEN=1 pytest tests/test_golden.py``
and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import EXAMPLE

from digest.compose.edition import compose
from digest.config import load_config
from digest.deliver.headers import list_id
from digest.deliver.message import Outgoing, Recipient, build_message, personalise
from digest.intake.ingest import ingest_all
from digest.render.email import Rendered
from digest.run.rendering import render_draft
from digest.store.database import open_store

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
READER = Recipient(
    delivery_id=7,
    email="zoe.muller@example.org",
    name="Zoë Müller",
    unsubscribe_url="https://newsroom.example/digest/unsubscribe/TOKEN",
    preferences_url="https://newsroom.example/digest/preferences/TOKEN",
    unsubscribe_mailto="mailto:unsubscribe@newsroom.example?subject=unsubscribe%20TOKEN",
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    config = load_config(EXAMPLE / "digest.toml")
    url = f"sqlite:///{tmp_path_factory.mktemp('golden') / 'digest.db'}"
    with open_store(url) as store:
        ingest_all(store, config, NOW)
        with store.session() as session:
            draft = compose(session, config.segment("politics-daily"), NOW)
    return render_draft(config, draft)


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DIGEST_REGENERATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_edition_holds_the_clean_seed_article(rendered: Rendered) -> None:
    seed = next(i for i in rendered.items if "putin-russian-interference" in i.url)
    # its lead sentence opens the summary
    assert seed.summary.startswith("Russian President Vladimir Putin ruled Thursday that")
    assert "“invented” by Donald Trump’s opponents" in seed.summary
    for junk in ("Must Read", "/CC", "sociologist", "Western liberalism"):
        assert junk not in seed.summary


def test_html_matches_golden(rendered: Rendered) -> None:
    check("politics-daily.html", personalise(rendered, READER, "html"))


def test_text_matches_golden(rendered: Rendered) -> None:
    check("politics-daily.txt", personalise(rendered, READER, "text"))


def test_message_matches_golden(rendered: Rendered) -> None:
    outgoing = Outgoing(
        edition_id=1,
        segment="politics-daily",
        rendered=rendered,
        from_name="The Newsroom Digest",
        from_email="digest@newsroom.example",
        reply_to="editors@newsroom.example",
        list_id=list_id("Politics Daily", "politics-daily", "newsroom.example"),
    )
    raw = build_message(outgoing, READER, date="Thu, 26 Nov 2026 08:00:00 +0000").as_string()
    boundaries = dict.fromkeys(re.findall(r'boundary="([^"]+)"', raw))
    for number, boundary in enumerate(boundaries):
        raw = raw.replace(boundary, f"BOUNDARY-{number}")
    check("politics-daily.eml", raw)
