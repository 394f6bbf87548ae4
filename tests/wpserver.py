"""A WordPress REST API stand-in on loopback: posts with paging, _embed and modified_after.

It answers the way WordPress 6 does for the parts Digest uses: ``per_page`` and ``page``
with ``X-WP-Total`` and ``X-WP-TotalPages`` headers, a 400 ``rest_post_invalid_page_number``
beyond the last page, ``orderby=modified&order=asc``, ``modified_after`` (an RFC 3339
time), ``_embed`` adding the author and the terms, and ``/tags`` and ``/categories``
with ``include``, and ``wp:featuredmedia`` for a post whose ``featured_media`` names one
of the site's ``media``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from helpers import in_thread

BASE = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
TAGS = {1: "U.S. Politics", 2: "Arts &amp; Culture", 3: "Climate"}
CATEGORIES = {10: "World", 11: "Business"}


def gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def make_post(number: int, *, modified: datetime | None = None) -> dict[str, Any]:
    """A post as WordPress stores it (before _embed), numbered from 1."""
    published = BASE + timedelta(minutes=10 * number)
    return {
        "id": number,
        "date": gmt(published + timedelta(hours=1)),  # the site's local time, UTC+1
        "date_gmt": gmt(published),
        "modified": gmt((modified or published) + timedelta(hours=1)),
        "modified_gmt": gmt(modified or published),
        "slug": f"post-{number}",
        "status": "publish",
        "link": f"https://blog.example/2026/11/post-{number}/",
        "title": {"rendered": f"Post {number}: Ben &amp; Jerry&#8217;s &#8220;news&#8221;"},
        "content": {
            "rendered": (
                f"<p>Story number {number} begins with a sentence that is long enough to count "
                "as the opening paragraph of a real article.</p>\n"
                f"<p>It goes on &amp; on about the matter of post {number}, adding detail "
                "that readers of the digest will want to see.</p>\n"
            ),
            "protected": False,
        },
        "excerpt": {"rendered": f"<p>Story number {number} begins&hellip;</p>"},
        "author": 7,
        "categories": [10 + number % 2],
        "tags": [1 + number % 3, 3] if number % 3 != 2 else [3],
    }


@dataclass
class WordPressSite:
    posts: list[dict[str, Any]] = field(default_factory=list)
    embed_terms: bool = True  # False: like a site whose _embed leaves out wp:term
    total_pages_header: bool = True  # False: like a cache that strips X-WP-* headers
    requests: list[str] = field(default_factory=list)
    url: str = ""
    media: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → attachment

    def page_query(self, path: str) -> dict[str, str]:
        query = parse_qs(urlsplit(path).query)
        return {k: v[-1] for k, v in query.items()}


def _rfc3339(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _with_embeds(site: WordPressSite, post: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(post.get("tags"), list):
        return post
    embedded: dict[str, Any] = {"author": [{"id": 7, "name": "Mar&iacute;a L&oacute;pez"}]}
    if post.get("featured_media") in site.media:
        embedded["wp:featuredmedia"] = [site.media[post["featured_media"]]]
    if site.embed_terms:
        embedded["wp:term"] = [
            [{"id": i, "name": CATEGORIES[i], "taxonomy": "category"} for i in post["categories"]],
            [{"id": i, "name": TAGS[i], "taxonomy": "post_tag"} for i in post["tags"]],
        ]
    return {**post, "_embedded": embedded}


def _answer_posts(site: WordPressSite, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    per_page, page = int(query.get("per_page", "10")), int(query.get("page", "1"))
    chosen = list(site.posts)
    if "modified_after" in query:
        after = _rfc3339(query["modified_after"])
        chosen = [p for p in chosen if _rfc3339(p["modified_gmt"] + "Z") > after]
    if query.get("orderby") == "modified":
        chosen.sort(key=lambda p: p["modified_gmt"], reverse=query.get("order") != "asc")
    total_pages = max(1, -(-len(chosen) // per_page))
    if page > total_pages:
        return (
            400,
            {},
            {
                "code": "rest_post_invalid_page_number",
                "message": "The page number requested is larger than the number of pages "
                "available.",
                "data": {"status": 400},
            },
        )
    headers = {"X-WP-Total": str(len(chosen))}
    if site.total_pages_header:
        headers["X-WP-TotalPages"] = str(total_pages)
    body = chosen[(page - 1) * per_page : page * per_page]
    if "_embed" in query:
        body = [_with_embeds(site, p) for p in body]
    return 200, headers, body


def _answer_terms(kind: str, query: dict[str, str]) -> Any:
    table = TAGS if kind == "tags" else CATEGORIES
    wanted = [int(i) for i in query.get("include", "").split(",") if i]
    return [{"id": i, "name": table[i], "taxonomy": kind} for i in wanted if i in table]


@contextmanager
def serve_wordpress(site: WordPressSite) -> Iterator[WordPressSite]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            route = urlsplit(self.path).path
            query = site.page_query(self.path)
            headers: dict[str, str] = {}
            if route == "/wp-json/wp/v2/posts":
                status, headers, body = _answer_posts(site, query)
            elif route in ("/wp-json/wp/v2/tags", "/wp-json/wp/v2/categories"):
                status, body = 200, _answer_terms(route.rsplit("/", 1)[1], query)
            else:
                status, body = 404, {"code": "rest_no_route", "data": {"status": 404}}
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return None

    with in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        site.url = f"http://127.0.0.1:{port}"
        yield site
