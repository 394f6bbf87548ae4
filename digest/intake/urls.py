"""Links found in feeds and pages, resolved against the address they were found at."""

from __future__ import annotations

from urllib.parse import urljoin


def join_url(base: str, url: str) -> str | None:
    """``url`` resolved against ``base``, as a browser would; None when either is malformed
    (say, a broken IPv6 host), which :func:`urllib.parse.urljoin` reports by raising."""
    try:
        return urljoin(base, url.strip())
    except ValueError:
        return None
