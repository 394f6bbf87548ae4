"""A loopback HTTP server that misbehaves on request: slow, dripping, cut short, lying.

Each path maps to a :class:`Reply`. Requests are logged with their headers, the client's
port and the monotonic time they arrived, so tests can check what Digest asked and when.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helpers import in_thread


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""  # answer 304 when If-None-Match carries it
    last_modified: str = ""  # answer 304 when If-Modified-Since repeats it
    delay: float = 0.0  # seconds of silence before answering
    drip: float = 0.0  # seconds between single bytes of the body
    drip_head: float = 0.0  # seconds between single bytes of the status line and headers
    cut_after: int | None = None  # close after this many body bytes, having promised all
    send_length: bool = True  # without a Content-Length the body ends when the socket closes


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    port: int  # the client's port: the same port twice means a reused connection
    at: float  # time.monotonic() on arrival


@dataclass
class BadServer:
    routes: dict[str, Reply] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""  # http://127.0.0.1:PORT
    port: int = 0

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that hangs up on a reply it will not read is expected here
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[BadServer]:
    """A server on ``host`` (a loopback address: 127.0.0.2 is a second, distinct one)."""
    state = BadServer()
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse can be observed
        timeout = 5  # an idle kept-alive connection does not hold its thread for ever

        def do_GET(self) -> None:
            state.requests.append(
                Seen(
                    self.path, dict(self.headers.items()), self.client_address[1], time.monotonic()
                )
            )
            reply = state.routes.get(self.path, Reply(b"not here", status=404))
            if stopping.wait(reply.delay):
                self.close_connection = True
                return
            try:
                self._answer(reply)
            except OSError:  # the client gave up first, as it should
                self.close_connection = True

        def _answer(self, reply: Reply) -> None:
            status = reply.status
            fresh = (reply.etag and self.headers.get("If-None-Match") == reply.etag) or (
                reply.last_modified and self.headers.get("If-Modified-Since") == reply.last_modified
            )
            body = b"" if fresh else reply.body
            head = [f"HTTP/1.1 {304 if fresh else status} Whatever"]
            headers = {"Content-Type": reply.content_type, **reply.headers}
            if reply.etag:
                headers["ETag"] = reply.etag
            if reply.last_modified:
                headers["Last-Modified"] = reply.last_modified
            if reply.send_length or fresh:
                headers["Content-Length"] = str(len(body))
            if not reply.send_length or reply.cut_after is not None:
                headers["Connection"] = "close"
                self.close_connection = True
            head += [f"{name}: {value}" for name, value in headers.items()]
            self._send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"), reply.drip_head)
            if reply.cut_after is not None:
                body = body[: reply.cut_after]
            self._send(body, reply.drip)

        def _send(self, data: bytes, drip: float) -> None:
            if not drip:
                self.wfile.write(data)
                self.wfile.flush()
                return
            for index in range(len(data)):
                if stopping.wait(drip):
                    return
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            return None

    with in_thread(_QuietServer((host, 0), Handler)) as port:
        state.port = port
        state.url = f"http://{host}:{state.port}"
        try:
            yield state
        finally:
            stopping.set()  # before the server closes: it waits for the handlers to finish
