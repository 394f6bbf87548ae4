"""``digest summarise``: summaries from the command line, one text or a batch of articles."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import IO

import click

from digest.compose.summarise import CentralitySummariser

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
