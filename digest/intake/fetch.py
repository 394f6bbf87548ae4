"""Fetch documents politely: timeouts, a size cap, conditional requests, one pace per host.

Bytes come out; decoding them is the parser's business. Redirects are followed here, hop
by hop, so that each hop is paced, guarded (see :mod:`digest.intake.netguard`) and
counted, and so that a permanent move of the requested URL can be reported.

A source's ``allow_private`` trusts its own host, not wherever it points: a hop to any
other host is guarded on its own (unless that host is in ``[intake] allow_hosts``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from digest import __version__
from digest.intake.netguard import DEADLINE, AddressRefused, GuardedTransport
from digest.settings import IntakeSettings

USER_AGENT = (
    f"Digest/{__version__} (newsletter digest generator; +https://github.com/digest-news/digest)"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, text/html;q=0.7, */*;q=0.5"
)
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)
PRIVATE_HINT = "set allow_private = true on the source or add the host to [intake] allow_hosts"
OTHER_HOST_HINT = (
    "allow_private trusts only the source's own host; add {host} to [intake] allow_hosts "
    "if it is trusted too"
)


class FetchError(Exception):
    """The document could not be had; the message says why in one line."""


class PrivateAddressError(FetchError):
    """The URL's host is a private, loopback or link-local address; ``hint`` says how a
    source is allowed to reach it (callers without a config name their own way)."""

    def __init__(self, url: str, reason: str, hint: str = PRIVATE_HINT) -> None:
        super().__init__(f"refused {url}: {reason}; {hint}")
        self.url, self.reason = url, reason


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

    @property
    def media_type(self) -> str:
        """The content type without parameters, e.g. "text/html"; "" when none was sent.

        For error lines such as "got text/html, not a feed": the body is never judged here.
        """
        return self.content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class _Redirect:
    status: int
    target: str


class Fetcher:
    """One per run: shares connection pools and remembers when each host was last asked.

    Use it as a context manager, or call :meth:`close`. Not for use by several threads.
    """

    def __init__(self, settings: IntakeSettings | None = None) -> None:
        self.settings = settings or IntakeSettings()
        self._allowed = {host.lower().rstrip(".") for host in self.settings.allow_hosts}
        self._clients: dict[bool, httpx.Client] = {}  # guarded (False) or trusted (True)
        self._last_request: dict[str, float] = {}  # host → monotonic time its last hop ended

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def read(self, path: Path) -> Fetched:
        """A local file; configured files are trusted, so no address guard applies."""
        limit = self.settings.max_bytes
        try:
            if path.stat().st_size > limit:
                raise FetchError(f"{path} is larger than [intake] max_bytes = {limit} bytes")
            return Fetched(body=path.read_bytes(), final_url=path.absolute().as_uri())
        except OSError as e:
            raise FetchError(f"cannot read {path} ({e.strerror}); check the path") from e

    def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        allow_private: bool = False,
        trusted_host: str = "",
    ) -> Fetched:
        """Fetch ``url``, following up to five redirects; raise FetchError saying why not.

        ``allow_private`` trusts the host of ``url`` even when it is private;
        ``trusted_host`` names a (configured) host to trust instead, for URLs a source's
        content gave. Every other host, a redirect's included, passes the guard.
        """
        trusted = frozenset(h for h in (host_of(url) if allow_private else "", trusted_host) if h)
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        chain, moved_to, still_permanent = [url], "", True
        while True:
            hop = self._hop(chain[-1], headers, trusted)
            if isinstance(hop, Fetched):
                return Fetched(
                    body=hop.body,
                    content_type=hop.content_type,
                    etag=hop.etag or (etag if hop.not_modified else ""),
                    last_modified=hop.last_modified or (last_modified if hop.not_modified else ""),
                    final_url=chain[-1],
                    not_modified=hop.not_modified,
                    gone=hop.gone,
                    moved_to=moved_to if moved_to != url else "",
                )
            still_permanent = still_permanent and hop.status in PERMANENT
            if still_permanent:
                moved_to = hop.target
            if hop.target in chain:
                loop = " → ".join([*chain[chain.index(hop.target) :], hop.target])
                raise FetchError(f"redirect loop: {loop}; ask the publisher for the feed's URL")
            if len(chain) > MAX_REDIRECTS:
                raise FetchError(
                    f"more than {MAX_REDIRECTS} redirects from {url} (last to {hop.target})"
                )
            chain.append(hop.target)

    def _hop(
        self, url: str, headers: dict[str, str], trusted: frozenset[str]
    ) -> Fetched | _Redirect:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as e:
            raise FetchError(f"invalid URL {url!r} ({e})") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise FetchError(f"refused {url}: only http(s) URLs with a host are fetched")
        host = parsed.host.lower().rstrip(".")
        client = self._client(trusted=host in trusted or host in self._allowed)
        self._pause(host)
        timeout = self.settings.timeout
        deadline = DEADLINE.set(time.monotonic() + timeout)
        try:
            with client.stream("GET", parsed, headers=headers) as response:
                return self._answer(url, response)
        except AddressRefused as e:
            hint = OTHER_HOST_HINT.format(host=host) if trusted else PRIVATE_HINT
            raise PrivateAddressError(url, str(e), hint) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"timed out after {timeout:g} s fetching {url}; if the source is just slow, "
                "raise [intake] timeout"
            ) from None
        except httpx.HTTPError as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise FetchError(f"cannot fetch {url} ({reason})") from None
        finally:
            DEADLINE.reset(deadline)
            self._last_request[host] = time.monotonic()

    def _answer(self, url: str, response: httpx.Response) -> Fetched | _Redirect:
        status = response.status_code
        if status in REDIRECTS:
            location = response.headers.get("location", "").strip()
            if not location:
                raise FetchError(f"HTTP {status} from {url} without a Location header")
            return _Redirect(status, str(response.url.join(location)))
        if status == 304:
            return Fetched(b"", not_modified=True, etag=response.headers.get("etag", ""))
        if status == 410:
            return Fetched(b"", gone=True)
        if status >= 300:
            raise FetchError(f"HTTP {status} {response.reason_phrase} from {url}{_hint(status)}")
        return Fetched(
            body=self._body(url, response),
            content_type=response.headers.get("content-type", ""),
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )

    def _body(self, url: str, response: httpx.Response) -> bytes:
        limit = self.settings.max_bytes
        too_big = f"{url} is larger than [intake] max_bytes = {limit} bytes"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{too_big} (it declares {declared})")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # bytes after any gzip: a bomb is capped too
            size += len(chunk)
            if size > limit:
                raise FetchError(too_big)
            chunks.append(chunk)
        return b"".join(chunks)

    def _client(self, *, trusted: bool) -> httpx.Client:
        if trusted not in self._clients:
            self._clients[trusted] = httpx.Client(
                transport=GuardedTransport(guard=not trusted),
                timeout=self.settings.timeout,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
                trust_env=False,  # no .netrc credentials and no proxies from the environment
            )
        return self._clients[trusted]

    def _pause(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            wait = last + self.settings.host_delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)


def host_of(url: str) -> str:
    """The host of ``url`` as the guard compares hosts (lower case, no trailing dot)."""
    try:
        return httpx.URL(url).host.lower().rstrip(".")
    except httpx.InvalidURL:
        return ""


def _hint(status: int) -> str:
    if status == 404:
        return "; check the URL"
    if status in (401, 403):
        return "; the server refuses Digest, ask the publisher for access"
    if status == 429:
        return "; the server asks Digest to slow down, it is retried next run"
    if status >= 500:
        return "; the server failed, it is retried next run"
    return ""
