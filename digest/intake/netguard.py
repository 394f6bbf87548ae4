"""Keep fetching on the public internet, and inside a deadline.

A feed is untrusted: its URL, or a redirect it answers with, could point Digest at an
internal service (a cloud metadata endpoint, an admin page on localhost). The guard sits
where connections are made: the host is resolved once, every address it resolves to must
be public, and the connection goes to the address that was checked. Checking at connect
time, on the resolved address itself, leaves no DNS-rebinding window between a check and
a second lookup, and covers every redirect hop because each new host needs a connection.

The same layer enforces a total deadline per request. httpx's timeouts apply to each read
or write, so a server that sends a byte every few tenths of a second would never trip
them; here every read and write gets only what is left of the request's time.

Proxies from the environment are not used: a proxy would make the connect-time check
meaningless. Name resolution is the one step the deadline does not bound: getaddrinfo
takes no timeout, so a hanging resolver holds a request for as long as the system's
resolver allows.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

# The monotonic time by which the current request must be done; None means no deadline.
DEADLINE: ContextVar[float | None] = ContextVar("digest_fetch_deadline", default=None)


class AddressRefused(Exception):
    """The host resolves to an address Digest does not fetch from; str() says which."""


def address_kind(address: str) -> str:
    """Why an IP address is not public ("loopback", "private", ...), or "" when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),  # e.g. 100.64.0.0/10, shared by carriers
    )
    return next((kind for kind, hit in checks if hit), "")


def literal_kind(host: str) -> str:
    """Why a host is not public by its spelling alone ("loopback", "private", ...), or ""
    when it is a public address or a name. IPv4 addresses in the older forms that
    resolvers still accept (``127.1``, ``0x7f.0.0.1``, ``2130706433``) count as addresses;
    ``localhost`` and names under ``.localhost`` are loopback. Nothing is looked up."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        return address_kind(host)
    except ValueError:
        pass
    try:
        return address_kind(socket.inet_ntoa(socket.inet_aton(host)))
    except OSError:
        return ""  # a name


def resolve_public(host: str, port: int) -> list[str]:
    """Every address of ``host``, all public; raise AddressRefused if any is not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise httpcore.ConnectError(f"cannot resolve host {host}: {e}") from e
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        kind = address_kind(address)
        if kind:
            where = "" if address == host else f" ({address})"
            raise AddressRefused(f"it resolves to a {kind} address{where}")
    return addresses


def _budget(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """The time a socket operation may take: its own timeout, capped by the deadline."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request took longer than its deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to public addresses (unless ``guard`` is off), within the deadline."""

    def __init__(self, *, guard: bool) -> None:
        self.guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_public(host, port) if self.guard else [host]
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # TLS still names the host: the connection knows it
            budget = _budget(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(
                    address, port, budget, local_address, socket_options
                )
            except httpcore.ConnectError as e:
                failure = e
                continue
            return _DeadlineStream(stream)
        raise failure or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("Digest does not fetch over Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# httpcore's errors as httpx's, most specific first.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except tuple(core for core, _ in _ERRORS) as e:
        mapped = next(ours for core, ours in _ERRORS if isinstance(e, core))
        raise mapped(str(e)) from e


class _Body(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over a connection pool whose connections pass the guard."""

    def __init__(self, *, guard: bool) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=GuardedBackend(guard=guard),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
