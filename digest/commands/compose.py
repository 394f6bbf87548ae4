"""``digest preview``, ``digest pin`` and ``digest exclude`` (the editor's view of the next
edition, composed without sending or recording anything, and the choices that shape it) and
``digest summarise`` (summaries from the command line, one text or a batch of articles)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import click

from digest.commands.options import config_option, segment_option
from digest.compose.edition import compose
from digest.compose.editor_choices import AlreadySentError, choose_article, find_article, pin_notes
from digest.compose.explain import as_dict, order_line, pins_left_out
from digest.compose.summarise import CentralitySummariser
from digest.config import load_config
from digest.errors import DigestError
from digest.run.preview import draft_preview, write_preview
from digest.run.rendering import render_draft
from digest.store.database import open_store
from digest.store.models import EditorAction, EditorChoice


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
            summary_sources={s.name: s.summary_source for s in config.sources},
        )
        rendered = render_draft(config, draft) if draft.items else None
        html = (
            write_preview(
                config.sender, rendered, draft_preview(config.outbox_dir, draft.segment.name)
            )
            if rendered
            else None
        )
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
    for item in rendered.left_out if rendered else ():
        click.echo(f"left out #{item.article_id} {item.title}: over max_html_bytes (Gmail's clip)")
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


CLOSED = re.compile(r"[.!?…][\"'”’)\]]*$")


class BadLine(ValueError):
    """A batch line that is not an article object; the message says what to fix."""


@click.command()
@click.option(
    "--words", type=click.IntRange(min=1), default=60, show_default=True, help="Word budget."
)
@click.option("--sentences", type=click.IntRange(min=1), default=None, help="Sentence budget.")
@click.option("--title", default=None, help="The title (plain text: default the first line).")
@click.option(
    "--jsonl", is_flag=True, help='Read lines {"id", "title", "text"}; write {"id", "summary"}.'
)
@click.argument(
    "file", type=click.File("r", encoding="utf-8", errors="replace", lazy=False), default="-"
)
def summarise(
    words: int, sentences: int | None, title: str | None, jsonl: bool, file: IO[str]
) -> None:
    """Summarise text from FILE or standard input, in whole sentences within a word budget.

    Plain text: paragraphs separated by blank lines; a first line standing alone without a
    closing full stop is the title. With --jsonl, each line is an article
    {"id", "title", "text"} and each answer a line {"id", "summary"}, in the same order; a
    malformed line gets one error on standard error, the others go on, and the exit code is 1.
    """
    summariser = CentralitySummariser(sentences)
    if not jsonl:
        heading, text = split_title(file.read())
        click.echo(summariser.summarise(title if title is not None else heading, text, words))
        return
    failed = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            ident, heading, text = parse_line(line)
        except BadLine as e:
            click.echo(f"error: line {number}: {e}", err=True)
            failed += 1
            continue
        summary = summariser.summarise(heading, text, words)
        click.echo(json.dumps({"id": ident, "summary": summary}, ensure_ascii=False))
    if failed:
        sys.exit(1)


def split_title(text: str) -> tuple[str, str]:
    """The title and body of plain text: the title is a lone first line that ends no sentence."""
    head, blank, rest = text.lstrip().partition("\n\n")
    if blank and "\n" not in head.strip() and not CLOSED.search(head.strip()):
        return head.strip(), rest
    return "", text


def parse_line(line: str) -> tuple[object, str, str]:
    """The id, title and text of one batch line, or BadLine saying what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadLine(f"not JSON ({e.msg}); give one JSON object per line") from e
    if not isinstance(item, dict):
        raise BadLine('not an object; give {"id": ..., "title": "...", "text": "..."}')
    missing = [key for key in ("id", "text") if key not in item]
    if missing:
        raise BadLine(f"no {_names(missing)}; every line needs an id and a text")
    wrong = [key for key in ("title", "text") if not isinstance(item.get(key, ""), str)]
    if wrong:
        raise BadLine(f"{_names(wrong)} must be a string")
    if not isinstance(item["id"], str | int) or isinstance(item["id"], bool):
        raise BadLine('"id" must be a string or an integer')
    return item["id"], str(item.get("title", "")), str(item["text"])


def _names(keys: Iterable[str]) -> str:
    return " and ".join(f'"{k}"' for k in keys)
