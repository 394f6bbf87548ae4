"""Fetch documents politely: timeouts, a size cap, conditional requests, one pace per host."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from digest import __version__
from digest.settings import IntakeSettings

USER_AGENT = (
    f"Digest/{__version__} (newsletter digest generator; +https://github.com/digest-news/digest)"
)


class FetchError(Exception):
    """The document could not be had; the message says why in one line."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    final_url: str = ""
    not_modified: bool = False  # 304
    gone: bool = False  # 410
    moved_to: str = ""  # target of a permanent redirect (301/308) of the requested URL


class Fetcher:
    """One per run: shares a connection pool and remembers when each host was last asked."""

    def __init__(self, settings: IntakeSettings | None = None) -> None:
        self.settings = settings or IntakeSettings()

    def read(self, path: Path) -> Fetched:
        try:
            return Fetched(body=path.read_bytes(), final_url=path.as_uri())
        except OSError as e:
            raise FetchError(f"cannot read {path} ({e.strerror}); check the path") from e

    def get(
        self, url: str, *, etag: str = "", last_modified: str = "", allow_private: bool = False
    ) -> Fetched:
        headers = {"User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        limit = self.settings.max_bytes
        try:
            with (
                httpx.Client(
                    timeout=self.settings.timeout, follow_redirects=True, max_redirects=5
                ) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code == 304:
                    return Fetched(b"", not_modified=True, etag=etag, last_modified=last_modified)
                if response.status_code == 410:
                    return Fetched(b"", gone=True)
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} from {url}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(f"{url} is larger than {limit} bytes")
                    chunks.append(chunk)
                moved = [r for r in response.history if r.status_code in (301, 308)]
                return Fetched(
                    body=b"".join(chunks),
                    content_type=response.headers.get("content-type", ""),
                    etag=response.headers.get("etag", ""),
                    last_modified=response.headers.get("last-modified", ""),
                    final_url=str(response.url),
                    moved_to=str(response.url) if moved else "",
                )
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects from {url}") from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {url}") from None
        except httpx.HTTPError as e:
            raise FetchError(f"cannot fetch {url} ({type(e).__name__}: {e})") from e
