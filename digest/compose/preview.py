"""``digest preview``, ``digest pin`` and ``digest exclude``: the editor's view of the next
edition, composed without sending or recording anything, and the choices that shape it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digest.compose.choices import choose_article
from digest.compose.edition import Draft, compose
from digest.config import Config, load_config
from digest.deliver.message import Recipient, personalise
from digest.deliver.outbox import UNSAFE, write_atomically
from digest.options import config_option
from digest.render.email import Identity, render
from digest.store.database import open_store
from digest.store.models import EditorAction

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
    if as_json:
        click.echo(json.dumps(as_dict(draft, html), ensure_ascii=False, indent=1))
        return
    for number, item in enumerate(draft.items, start=1):
        parts = " ".join(f"{k}={v:g}" for k, v in item.parts.items())
        click.echo(f"{number}. [{item.score:.4f}] #{item.article_id} {item.title} ({item.source})")
        click.echo(f"   {parts}\n   why: {item.reason}\n   {item.summary}")
    for left in draft.dropped:
        click.echo(f"dropped [{left.score:.4f}] #{left.article_id} {left.title}: {left.reason}")
    if len(draft.items) < settings.min_items:
        click.echo(f"only {len(draft.items)} new items; waiting for {settings.min_items}")
    click.echo(f"preview: {html}" if html else "no new articles")


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


def as_dict(draft: Draft, html: Path | None) -> dict[str, Any]:
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
        "html": str(html or ""),
    }


def _choose(config_path: Path, segment: str, ref: str, action: EditorAction) -> None:
    config = load_config(config_path)
    config.segment(segment)
    with open_store(config.database_url) as store, store.session() as session:
        article = choose_article(session, segment, ref, action, datetime.now(UTC))
        click.echo(f"{action.value} #{article.id} {article.title} for {segment}'s next edition")


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
