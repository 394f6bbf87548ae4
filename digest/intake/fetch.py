"""Fetch a source's document politely: timeouts, a size cap, conditional requests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from digest import __version__

USER_AGENT = (
    f"Digest/{__version__} (newsletter digest generator; +https://github.com/digest-news/digest)"
)
MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class FetchError(Exception):
    """The document could not be had; the message says why."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    final_url: str = ""


def read_file(path: Path) -> Fetched:
    try:
        return Fetched(body=path.read_bytes())
    except OSError as e:
        raise FetchError(f"cannot read {path} ({e.strerror}); check the path") from e


def fetch_url(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return Fetched(body=b"", not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} from {url}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MB")
                chunks.append(chunk)
            return Fetched(
                body=b"".join(chunks),
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag", ""),
                last_modified=response.headers.get("last-modified", ""),
                final_url=str(response.url),
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"too many redirects from {url}") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out fetching {url}") from None
    except httpx.HTTPError as e:
        raise FetchError(f"cannot fetch {url} ({type(e).__name__}: {e})") from e
