"""Boilerplate that only shows itself by repetition across one source's articles.

Each source keeps, per line (paragraph of cleaned text), the number of its articles that
carried it (table ``source_lines``, keyed by :func:`line_hash`).  A line found in at least
:func:`recurrence_threshold` of the source's articles is a plug, footer or template line,
whatever it says, and is removed from every entry of the source.  An article is counted
once, when its URL is first seen, so re-reading a feed never inflates the counts.

The reads and writes are one statement each, whatever the batch size: the hashes travel
as one JSON array (SQLite's ``json_each``) or one array (PostgreSQL's ``unnest``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, bindparam, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from digest.intake.clean import is_sentence_like
from digest.intake.entries import Entry
from digest.store.models import Article, SourceLine

MIN_ARTICLES = 3  # two articles sharing a line is a coincidence (a quote reused in a follow-up)
SHARE = 0.3  # so is a line in a few of a large source's articles...
ENOUGH = 20  # ...but a line in 20 of them is a template, however large the source


def recurrence_threshold(articles: int) -> int:
    """How many of a source's ``articles`` must carry a line for it to be boilerplate."""
    return max(MIN_ARTICLES, min(ENOUGH, math.ceil(SHARE * articles)))


def line_hash(line: str) -> str:
    """16 hex characters naming a line, blind to case and spacing."""
    key = line.lower().strip()
    if "  " in key or "\n" in key or "\t" in key or "\xa0" in key:
        key = " ".join(key.split())
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def strip_recurring(session: Session, source_id: int, entries: Sequence[Entry]) -> list[Entry]:
    """The entries with lines that recur across the source's articles removed.

    The lines of the entries not stored before are counted first, so a plug repeated
    within one visit (a feed's first) is already recognised.
    """
    hashed = [[(line, line_hash(line)) for line in _lines(e.text)] for e in entries]
    dialect = session.get_bind().dialect.name
    stored = _stored_urls(session, dialect, {e.url for e in entries})
    new = {
        entry.url: frozenset(h for _, h in lines)
        for entry, lines in zip(entries, hashed, strict=True)
        if entry.url not in stored and lines
    }
    articles = set(new.values())  # each once: a copy under another URL has the same lines
    counts = _add_counts(session, dialect, source_id, Counter(h for a in articles for h in a))
    others = {h for lines in hashed for _, h in lines} - counts.keys()  # of stored articles
    counts.update(_stored_counts(session, dialect, source_id, others) if others else {})
    known = session.scalar(
        select(func.count()).select_from(Article).where(Article.source_id == source_id)
    )
    needed = recurrence_threshold((known or 0) + len(articles))
    recurring = {h for h, n in counts.items() if n >= needed}
    return [
        _without(entry, lines, recurring) if any(h in recurring for _, h in lines) else entry
        for entry, lines in zip(entries, hashed, strict=True)
    ]


def _lines(text: str) -> list[str]:
    return [line for line in (part.strip() for part in text.split("\n\n")) if line]


def _without(entry: Entry, lines: list[tuple[str, str]], recurring: set[str]) -> Entry:
    """The entry without its recurring lines, keeping its first prose line if none is left."""
    kept = [line for line, h in lines if h not in recurring]
    if not any(is_sentence_like(line) for line in kept):
        first = next((line for line, _ in lines if is_sentence_like(line)), lines[0][0])
        kept = [line for line, h in lines if h not in recurring or line == first]
    return replace(entry, text="\n\n".join(kept))


def _one_of(
    dialect: str, column: InstrumentedAttribute[str], values: Collection[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` with the values bound as one parameter."""
    if dialect == "postgresql":
        return column == func.any(bindparam("values", list(values), type_=postgresql.ARRAY(String)))
    if dialect == "sqlite":
        listed = func.json_each(bindparam("values", json.dumps(list(values)))).table_valued("value")
        return column.in_(select(listed.c.value))
    return column.in_(list(values))


def _stored_urls(session: Session, dialect: str, urls: Collection[str]) -> set[str]:
    return set(session.scalars(select(Article.url).where(_one_of(dialect, Article.url, urls))))


def _stored_counts(
    session: Session, dialect: str, source_id: int, hashes: Collection[str]
) -> dict[str, int]:
    rows = session.execute(
        select(SourceLine.line_hash, SourceLine.count).where(
            SourceLine.source_id == source_id, _one_of(dialect, SourceLine.line_hash, hashes)
        )
    )
    return {line: count for line, count in rows}


def _add_counts(
    session: Session, dialect: str, source_id: int, batch: Counter[str]
) -> dict[str, int]:
    """Add the batch's counts to the stored ones and return the sums, in one statement."""
    if not batch:
        return {}
    columns = ["source_id", "line_hash", "count"]
    statement: Any
    if dialect == "postgresql":
        pairs = (
            func.unnest(
                bindparam("hashes", list(batch), type_=postgresql.ARRAY(String)),
                bindparam("counts", list(batch.values()), type_=postgresql.ARRAY(Integer)),
            )
            .table_valued("line_hash", "count")
            .render_derived()
        )
        rows = select(literal(source_id), pairs.c.line_hash, pairs.c.count)
        statement = postgresql.insert(SourceLine).from_select(columns, rows)
    else:  # SQLite; "WHERE true" keeps its parser from reading ON CONFLICT as a join
        pairs = func.json_each(bindparam("counts", json.dumps(batch))).table_valued("key", "value")
        rows = select(literal(source_id), pairs.c.key, pairs.c.value).where(true())
        statement = sqlite.insert(SourceLine).from_select(columns, rows)
    statement = statement.on_conflict_do_update(
        index_elements=[SourceLine.source_id, SourceLine.line_hash],
        set_={"count": SourceLine.count + statement.excluded["count"]},
    ).returning(SourceLine.line_hash, SourceLine.count)
    return {line: count for line, count in session.execute(statement)}
