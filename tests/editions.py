"""Editions of the example newsroom as readers get them, one per template variant: a plain
segment, a personalised segment's variant, one with an editor's note, an archived segment's
(with View in browser), and one whose lead carries an image. Rendered with whatever
templates the checkout holds, and personalised for one reader."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from helpers import EXAMPLE

from digest.compose.edition import Draft, compose
from digest.config import load_config
from digest.deliver.message import Recipient, personalise
from digest.deliver.recipients import variant_draft
from digest.intake.ingest import ingest_all
from digest.render.sample import sample_image, with_image
from digest.run.rendering import render_draft
from digest.store.database import open_store

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
READER = Recipient(
    delivery_id=7,
    email="zoe.muller@example.org",
    name="Zoë Müller",
    unsubscribe_url="https://newsroom.example/digest/unsubscribe/TOKEN",
    preferences_url="https://newsroom.example/digest/preferences/TOKEN",
    unsubscribe_mailto="mailto:unsubscribe@newsroom.example?subject=unsubscribe%20TOKEN",
)
NOTE = """Good morning. Three things to watch this week:

- the **budget vote** on Tuesday;
- the [council's consultation](https://newsroom.example/consultation), open until Friday;
- our new weekend edition."""
TOPICS = ("ai", "security")
ARCHIVE_URL = "https://newsroom.example/digest/archive/politics-daily/2026-11-26-0800-3fa9c1/"


@dataclass(frozen=True)
class Edition:
    name: str
    html: str  # as the reader gets it
    text: str
    lead_image: str  # the address of the lead's image; "" when the lead has none
    postal_address: str


def example_editions(folder: Path) -> list[Edition]:
    """Every variant, composed from the example newsroom in a store in ``folder``."""
    config = load_config(EXAMPLE / "digest.toml")
    with open_store(f"sqlite:///{folder / 'digest.db'}") as store:
        ingest_all(store, config, NOW)
        with store.session() as session:
            politics = compose(session, config.segment("politics-daily"), NOW)
            everything = compose(session, config.segment("everything-weekly"), NOW)
    personal = replace(everything.segment, personalised=True)
    personalised = variant_draft(replace(everything, segment=personal), TOPICS)
    archived = replace(politics, segment=replace(politics.segment, archive=True))
    lead = politics.items[0]
    image = sample_image(1)
    pictured = replace(politics, items=(with_image(lead, image), *politics.items[1:]))
    drafts: list[tuple[str, Draft, tuple[str, ...], str]] = [
        ("plain", politics, (), ""),
        ("personalised", personalised, TOPICS, ""),
        ("note", replace(politics, note=NOTE), (), ""),
        ("archived", archived, (), ARCHIVE_URL),
        ("lead-image", pictured, (), ""),
    ]
    editions = []
    for name, draft, topics, archive_url in drafts:
        rendered = render_draft(config, draft, topics, archive_url)
        has_image = getattr(pictured.items[0], "image", None) is not None and name == "lead-image"
        editions.append(
            Edition(
                name,
                personalise(rendered, READER, "html"),
                personalise(rendered, READER, "text"),
                image.url if has_image else "",
                config.sender.postal_address,
            )
        )
    return editions
