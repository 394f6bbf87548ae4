"""``digest preview``, ``digest pin`` and ``digest exclude``: the editor's view of the next
edition, composed without sending or recording anything, and the choices that shape it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from digest.compose.choices import (
    AlreadySentError,
    choose_article,
    find_article,
    pin_notes,
    sent_in,
    sent_line,
)
from digest.compose.edition import Draft, compose
from digest.config import Config, load_config
from digest.deliver.message import Recipient, personalise
from digest.deliver.outbox import UNSAFE, write_atomically
from digest.errors import DigestError
from digest.options import config_option
from digest.render.email import Identity, render
from digest.store.database import open_store
from digest.store.models import Article, EditorAction, EditorChoice

segment_option = click.option("--segment", required=True, help="The segment's name.")


@click.command()
@config_option
@segment_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object: items and dropped.")
def preview(config_path: Path, segment: str, as_json: bool) -> None:
    """Compose a segment's next edition without sending or recording it: each item with its
    score parts, reason and summary, each left-out candidate with its reason, and the HTML."""
    config = load_config(config_path)
    settings = config.segment(segment)
    with open_store(config.database_url) as store, store.session() as session:
        draft = compose(
            session,
            settings,
            datetime.now(UTC),
            source_weights={s.name: s.weight for s in config.sources},
        )
        html = write_html(config, draft) if draft.items else None
        unpinned = pins_left_out(session, draft)
    if as_json:
        click.echo(json.dumps(as_dict(draft, html, unpinned), ensure_ascii=False, indent=1))
        return
    if draft.items:
        click.echo(order_line(draft))
    for number, item in enumerate(draft.items, start=1):
        parts = " ".join(f"{k}={v:g}" for k, v in item.parts.items())
        click.echo(f"{number}. [{item.score:.4f}] #{item.article_id} {item.title} ({item.source})")
        click.echo(f"   {parts}\n   why: {item.reason}\n   {item.summary}")
    for left in draft.dropped:
        click.echo(f"dropped [{left.score:.4f}] #{left.article_id} {left.title}: {left.reason}")
    for pin in unpinned:
        click.echo(f"pinned #{pin.article_id} {pin.title} is left out: {pin.reason}")
    if not draft.items:
        since = (
            draft.since.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z") if draft.since else ""
        )
        click.echo(f"no new articles since {since}" if since else "no new articles")
        return
    if len(draft.items) < settings.min_items:
        click.echo(f"only {len(draft.items)} new items; waiting for {settings.min_items}")
    click.echo(f"preview: {html}")


def order_line(draft: Draft) -> str:
    """How the items are ordered: the order they were picked in, which after the diversity
    step is not always by score (a high score whose tags the items above already cover
    waits for one that adds a topic)."""
    segment = draft.segment
    count = f"{len(draft.items)} item" + ("s" if len(draft.items) != 1 else "")
    pins = "pins first, then " if any(i.article_id in draft.pinned for i in draft.items) else ""
    if not segment.diversity:
        return f"{segment.name}: {count}, {pins}by score"
    scores = [i.score for i in draft.items if i.article_id not in draft.pinned]
    unsorted = any(later > earlier for earlier, later in pairwise(scores))
    return (
        f"{segment.name}: {count} in the order picked: {pins}each time the best score less its "
        f"tag overlap with the items above (diversity {segment.diversity:g})"
        + ("; so a score can be higher than the one above it" if unsorted else "")
    )


@dataclass(frozen=True)
class LeftOutPin:
    article_id: int
    title: str
    reason: str


def pins_left_out(session: Session, draft: Draft) -> list[LeftOutPin]:
    """Every pinned article the draft does not carry, with the reason."""
    shown = {item.article_id for item in draft.items}
    dropped = {left.article_id: left for left in draft.dropped}
    found = []
    for article_id in sorted(draft.pinned - shown):
        if article_id in dropped:
            left = dropped[article_id]
            found.append(LeftOutPin(article_id, left.title, left.reason))
            continue
        article = session.get(Article, article_id)
        edition = sent_in(session, draft.segment.name, article_id)
        reason = (
            sent_line(draft.segment.name, edition) + "; the next edition clears this pin"
            if edition is not None
            else "not a candidate of this segment"
        )
        found.append(LeftOutPin(article_id, article.title if article else "", reason))
    return found


def write_html(config: Config, draft: Draft) -> Path:
    """The edition's HTML with sample reader values, as ``preview-SEGMENT.html`` in the outbox."""
    identity = Identity(config.sender.name, config.sender.postal_address, config.zone)
    templates = (
        config.resolve(config.general.templates_dir) if config.general.templates_dir else None
    )
    rendered = render(draft, identity, templates)
    base = config.sender.base_url.rstrip("/")
    sample = Recipient(0, "", "reader", f"{base}/unsubscribe", f"{base}/preferences", "")
    path = config.outbox_dir / f"preview-{UNSAFE.sub('_', draft.segment.name)}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, personalise(rendered, sample, "html").encode("utf-8"))
    return path


def as_dict(draft: Draft, html: Path | None, unpinned: Sequence[LeftOutPin] = ()) -> dict[str, Any]:
    items = [
        {
            "position": n,
            **{k: v for k, v in asdict(item).items() if k != "also"},
            "published": item.published.isoformat(),
            "also": [{"outlet": o, "url": u} for o, u in item.also],
        }
        for n, item in enumerate(draft.items, start=1)
    ]
    dropped = [asdict(left) for left in draft.dropped]
    return {
        "segment": draft.segment.name,
        "items": items,
        "dropped": dropped,
        "pins_left_out": [asdict(pin) for pin in unpinned],
        "html": str(html or ""),
    }


def _choose(config_path: Path, segment: str, ref: str, action: EditorAction) -> None:
    config = load_config(config_path)
    settings = config.segment(segment)
    now = datetime.now(UTC)
    with open_store(config.database_url) as store, store.session() as session:
        article = find_article(session, ref)
        earlier = session.get(EditorChoice, (segment, article.id))
        replaced = earlier.action if earlier is not None and earlier.action != action else None
        try:
            choose_article(session, segment, str(article.id), action, now)
        except AlreadySentError as e:
            if action is EditorAction.pin:
                raise DigestError(f"not pinned: {e}") from None
            click.echo(f"nothing to exclude: {e}")  # what the editor wants already holds
            return
        click.echo(f"{action.value} #{article.id} {article.title} for {segment}'s next edition")
        notes = pin_notes(session, settings, article, now) if action is EditorAction.pin else []
        if replaced is not None:
            done = "pinned" if replaced is EditorAction.pin else "excluded"
            notes.insert(0, f"it was {done}; this replaces that")
        for note in notes:
            click.echo(f"  note: {note}")


@click.command()
@config_option
@segment_option
@click.argument("article")
def pin(config_path: Path, segment: str, article: str) -> None:
    """Put ARTICLE (id or URL) at the top of the segment's next edition."""
    _choose(config_path, segment, article, EditorAction.pin)


@click.command()
@config_option
@segment_option
@click.argument("article")
def exclude(config_path: Path, segment: str, article: str) -> None:
    """Leave ARTICLE (id or URL) out of the segment's next edition."""
    _choose(config_path, segment, article, EditorAction.exclude)
