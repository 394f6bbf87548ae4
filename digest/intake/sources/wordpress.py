"""WordPress sites through their REST API: posts with embedded authors and terms.

Posts are read oldest change first (``orderby=modified&order=asc``), so the newest
``modified_gmt`` seen is a cursor: the next run asks only for posts changed after it
(``modified_after``, from one second before it, so that posts changed within the
cursor's own second, as a bulk edit does, are not lost), and a run cut short by the page
cap resumes where it stopped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from digest.intake.entries import Entry
from digest.intake.feeds import make_entry
from digest.intake.fetch import Fetched, FetchError
from digest.intake.images import ImageRef
from digest.intake.sources.base import Harvest, HarvestContext, SourceProblem, SourceState
from digest.settings import SourceSettings

PER_PAGE = 100
MAX_PAGES = 50  # per run; the cursor carries the rest to the next run
TAXONOMIES = {"post_tag": "tags", "category": "categories"}
TAGS = re.compile(r"<[^>]*>")


class MalformedPost(ValueError):
    """One post cannot be used; the message says what is wrong with it."""


class WordPressSource:
    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        site = api_root(state.location)
        harvest = Harvest(cursor=state.cursor)
        names: dict[tuple[str, int], str] = {}
        for number in range(1, MAX_PAGES + 1):
            url = posts_url(site, number, state.cursor)
            try:
                fetched = context.fetcher.get(url, allow_private=settings.allow_private)
            except FetchError as e:
                if number == 1:
                    raise SourceProblem(str(e)) from e
                if "HTTP 400" not in str(e):  # 400 is WordPress's "no such page"
                    harvest.problems.append(f"page {number}: {e}; the rest comes next run")
                break
            if fetched.gone:
                harvest.gone = True
                return harvest
            if number == 1 and "/wp-json/" in fetched.moved_to:
                harvest.moved_to = fetched.moved_to.split("/wp-json/", 1)[0]
            posts = _posts(fetched, url)
            _learn_missing_terms(context, settings, site, posts, names, harvest.problems)
            for index, post in enumerate(posts):
                try:
                    harvest.entries.append(post_entry(post, names))
                except MalformedPost as e:
                    harvest.problems.append(f"post {_post_id(post, number, index)}: {e}; skipped")
                harvest.cursor = max(harvest.cursor, _modified(post))
            last = _total_pages(fetched)
            if len(posts) < PER_PAGE or (last is not None and number >= last):
                break
        return harvest


def api_root(location: str) -> str:
    """The site's root URL, whether the config names the site or its /wp-json API."""
    root = location.strip().rstrip("/")
    return root[: -len("/wp-json")] if root.endswith("/wp-json") else root


def posts_url(site: str, page: int, modified_after: str = "") -> str:
    params = {"_embed": "1", "per_page": str(PER_PAGE), "page": str(page)}
    params |= {"orderby": "modified", "order": "asc"}
    since = _gmt(modified_after)
    if since:  # a second early: posts changed in the cursor's own second are not lost
        params["modified_after"] = (since - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{site}/wp-json/wp/v2/posts?{urlencode(params)}"


def post_entry(post: Any, names: Mapping[tuple[str, int], str]) -> Entry:
    """The entry for one post object; raise :class:`MalformedPost` when it cannot be one."""
    if not isinstance(post, dict):
        raise MalformedPost("is not a JSON object")
    link = post.get("link")
    if not isinstance(link, str) or not link.startswith(("http://", "https://")):
        raise MalformedPost("has no http(s) link")
    title = html.unescape(TAGS.sub("", _rendered(post, "title")))
    content = _rendered(post, "content")
    body = content or _rendered(post, "excerpt")
    entry = make_entry(
        url=link,
        title=title,
        html=body,
        author=_author(post),
        raw_tags=_term_names(post, names),
        published=_gmt(post.get("date_gmt")),
        images=_featured(post),
        summary=_rendered(post, "excerpt") if content else "",
    )
    if entry is None:
        raise MalformedPost(f"{link} has no title")
    return entry


def _rendered(post: dict[str, Any], key: str) -> str:
    value = post.get(key)
    if isinstance(value, dict):
        value = value.get("rendered")
    if value is not None and not isinstance(value, str):
        raise MalformedPost(f"its {key} is not text")
    return value or ""


def _embedded(post: dict[str, Any]) -> dict[str, Any]:
    embedded = post.get("_embedded")
    return embedded if isinstance(embedded, dict) else {}


def _featured(post: dict[str, Any]) -> list[ImageRef]:
    """The post's featured image (``_embed``'s ``wp:featuredmedia``), with its alt text
    and its full size; nothing when it is not an image or WordPress withheld it."""
    media = _embedded(post).get("wp:featuredmedia")
    first = media[0] if isinstance(media, list) and media else None
    if not isinstance(first, dict) or first.get("media_type", "image") != "image":
        return []
    details = first.get("media_details")
    size = details if isinstance(details, dict) else {}
    alt = first.get("alt_text")
    return [ImageRef(first.get("source_url"), alt, size.get("width"), size.get("height"))]


def _author(post: dict[str, Any]) -> str:
    people = _embedded(post).get("author")
    if isinstance(people, list) and people and isinstance(people[0], dict):
        return html.unescape(str(people[0].get("name") or ""))
    return ""


def _embedded_terms(post: dict[str, Any]) -> list[dict[str, Any]] | None:
    groups = _embedded(post).get("wp:term")
    if not isinstance(groups, list):
        return None
    found = [t for g in groups if isinstance(g, list) for t in g if isinstance(t, dict)]
    return [t for t in found if t.get("taxonomy") in TAXONOMIES]


def _term_names(post: dict[str, Any], names: Mapping[tuple[str, int], str]) -> tuple[str, ...]:
    embedded = _embedded_terms(post)
    if embedded is not None:
        raw = [str(t.get("name") or "") for t in embedded]
    else:
        raw = [names.get((kind, i), "") for kind, i in _term_ids(post)]
    return tuple(dict.fromkeys(n for n in (html.unescape(r).strip() for r in raw) if n))


def _term_ids(post: Any) -> list[tuple[str, int]]:
    if not isinstance(post, dict):
        return []
    ids: list[tuple[str, int]] = []
    for kind in TAXONOMIES.values():
        values = post.get(kind)
        if isinstance(values, list):
            ids += [(kind, v) for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return ids


def _learn_missing_terms(
    context: HarvestContext,
    settings: SourceSettings,
    site: str,
    posts: Sequence[Any],
    names: dict[tuple[str, int], str],
    problems: list[str],
) -> None:
    """Look up the names of terms that posts name by id only (no ``_embed`` support)."""
    missing = {
        key
        for post in posts
        if isinstance(post, dict) and _embedded_terms(post) is None
        for key in _term_ids(post)
        if key not in names
    }
    for kind in TAXONOMIES.values():
        ids = sorted(i for k, i in missing if k == kind)
        for start in range(0, len(ids), PER_PAGE):
            chunk = ",".join(str(i) for i in ids[start : start + PER_PAGE])
            url = f"{site}/wp-json/wp/v2/{kind}?include={chunk}&per_page={PER_PAGE}"
            try:
                fetched = context.fetcher.get(url, allow_private=settings.allow_private)
                terms = json.loads(fetched.body)
            except (FetchError, ValueError) as e:
                problems.append(f"{kind} names: {e}; posts keep their other tags")
                continue
            for term in terms if isinstance(terms, list) else []:
                if isinstance(term, dict) and isinstance(term.get("id"), int):
                    names[(kind, term["id"])] = str(term.get("name") or "")


def _posts(fetched: Fetched, url: str) -> list[Any]:
    try:
        posts = json.loads(fetched.body)
    except ValueError:
        posts = None
    if not isinstance(posts, list):
        raise SourceProblem(
            f"{url} did not answer with a JSON list of posts; check that the url is the "
            "site's root and that its REST API (/wp-json/) is enabled"
        )
    return posts


def _total_pages(fetched: Fetched) -> int | None:
    """X-WP-TotalPages, when the fetcher hands response headers on."""
    headers = getattr(fetched, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    value = {str(k).lower(): v for k, v in headers.items()}.get("x-wp-totalpages")
    try:
        return int(str(value))
    except ValueError:
        return None


def _modified(post: Any) -> str:
    """The post's modified_gmt in one spelling, or "" when it has none."""
    if not isinstance(post, dict):
        return ""
    when = _gmt(post.get("modified_gmt"))
    return when.strftime("%Y-%m-%dT%H:%M:%S") if when else ""


def _gmt(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _post_id(post: Any, page: int, index: int) -> str:
    if isinstance(post, dict) and isinstance(post.get("id"), int | str):
        return str(post["id"])
    return f"#{index + 1} of page {page}"
