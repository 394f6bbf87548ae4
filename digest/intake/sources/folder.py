"""Local folders of articles: Markdown with front matter, JSON, and JSON Lines files.

Every article names its ``url`` (the link the digest points to) and ``title``; it may
give ``published`` (or ``date``), ``author`` or ``authors``, ``tags``, ``canonical``,
``image`` (its lead image: an https address, or ``url`` with ``alt``, ``width`` and
``height``; one that is not usable is left out quietly), and its body as ``text``
(plain, paragraphs separated by blank lines) or ``html`` (or ``content``).  A Markdown
file keeps these fields in YAML front matter between ``---`` lines, and its body below
them is the article.  One bad file or line is reported and skipped; the rest are read.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import markdown
import yaml

from digest.intake.entries import Entry
from digest.intake.feeds import make_entry
from digest.intake.fetch import FetchError
from digest.intake.images import ImageRef
from digest.intake.sources.base import Harvest, HarvestContext, SourceProblem, SourceState
from digest.settings import SourceSettings

KINDS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".jsonl": "jsonl"}
KINDS[".ndjson"] = "jsonl"
FENCE = "---"

# (where in the file, e.g. ":12" or " item 3", the article or why it could not be read)
Found = tuple[str, dict[str, Any] | str]


class ArticleError(ValueError):
    """One article cannot be used; the message says which field to fix."""


class FolderSource:
    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        root = Path(state.location)
        files = article_files(root)
        harvest = Harvest(title=root.name)
        for path in files:
            name = str(path.relative_to(root)) if root.is_dir() else path.name
            try:
                body = context.fetcher.read(path).body
            except FetchError as e:
                harvest.problems.append(f"{name}: {e}")
                continue
            for where, found in read_articles(body, KINDS[path.suffix.lower()]):
                try:
                    if isinstance(found, str):
                        raise ArticleError(found)
                    harvest.entries.append(article_entry(found))
                except ArticleError as e:
                    harvest.problems.append(f"{name}{where}: {e}; skipped")
        if not harvest.entries and harvest.problems:
            raise SourceProblem(
                f"no article could be read ({len(harvest.problems)} problems; "
                f"first: {harvest.problems[0]})"
            )
        return harvest


def article_files(root: Path) -> list[Path]:
    """The article files under ``root`` (or ``root`` itself), hidden ones left out."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SourceProblem(f"cannot read folder {root} (no such folder); check the path")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in KINDS
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise SourceProblem(f"{root} holds no .md, .json or .jsonl files; check the path")
    return files


def read_articles(body: bytes, kind: str) -> Iterator[Found]:
    """Each article object of one file, or why a part of it could not be read."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        yield "", f"not UTF-8 text (byte {e.start}); save the file as UTF-8"
        return
    if kind == "markdown":
        yield "", _markdown_article(text)
    elif kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f":{number}", _json_object(line)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            yield f":{e.lineno}", f"invalid JSON ({e.msg}, column {e.colno})"
            return
        items = data if isinstance(data, list) else [data]
        for number, item in enumerate(items, start=1):
            where = f" item {number}" if isinstance(data, list) else ""
            yield where, item if isinstance(item, dict) else "not a JSON object"


def _json_object(line: str) -> dict[str, Any] | str:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as e:
        return f"invalid JSON ({e.msg}, column {e.colno})"
    return item if isinstance(item, dict) else "not a JSON object"


def _markdown_article(text: str) -> dict[str, Any] | str:
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        return "no front matter; start the file with --- lines holding title and url"
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in (FENCE, "...")), 0)
    if not end:
        return "front matter is not closed; end it with a --- line"
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return f"invalid YAML front matter{where} ({getattr(e, 'problem', None) or e})"
    if not isinstance(meta, dict):
        return "front matter is not a table of fields (title: ..., url: ...)"
    body = markdown.markdown("\n".join(lines[end + 1 :]), extensions=["extra"])
    return {**{str(k): v for k, v in meta.items()}, "html": body}


def article_entry(article: dict[str, Any]) -> Entry:
    """The entry for one article object; raise :class:`ArticleError` naming what to fix."""
    canonical = _string(article, "canonical")
    url = _string(article, "url") or canonical
    if not url.startswith(("http://", "https://")):
        raise ArticleError("no http(s) url; give each article a url to link to")
    title = _string(article, "title")
    body = _string(article, "html") or _string(article, "content")
    if not body:
        plain = _string(article, "text")
        body = "".join(f"<p>{html.escape(p)}</p>" for p in plain.split("\n\n") if p.strip())
    if not body:
        raise ArticleError(f"{url} has no text; give it text, html or content")
    entry = make_entry(
        url=url,
        title=title,
        html=body,
        author=", ".join(_names(article.get("authors", article.get("author")))),
        raw_tags=(*_names(article.get("tags")), *_names(article.get("categories"))),
        published=_when(article.get("published", article.get("date"))),
        images=[_image(article.get("image"))],
    )
    if entry is None:
        raise ArticleError(f"{url} has no title; give it a title")
    return replace(entry, declared_canonical=canonical if canonical != url else "")


def _image(value: Any) -> ImageRef:
    if isinstance(value, dict):
        return ImageRef(value.get("url"), value.get("alt"), value.get("width"), value.get("height"))
    return ImageRef(value)


def _string(article: dict[str, Any], key: str) -> str:
    value = article.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArticleError(f"{key} must be text, not {type(value).__name__}")
    return value.strip()


def _names(value: Any) -> list[str]:
    """Names from a string ("a, b"), a list of strings, or a list of {name: ...} objects."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ArticleError(f"expected a name or a list of names, not {type(value).__name__}")
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    return [str(n).strip() for n in names if isinstance(n, str | int) and str(n).strip()]


def _when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ArticleError(
                f"published {value!r} is not an ISO 8601 date, e.g. 2026-11-26T08:00:00Z"
            ) from None
    else:
        raise ArticleError(f"published must be a date, not {type(value).__name__}")
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
