"""A reverse proxy for tests: takes requests under a public prefix and forwards them to an
upstream server on 127.0.0.1, with or without the prefix, as nginx's ``proxy_pass`` does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from helpers import in_thread

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def handler_for(upstream: str, prefix: str, strip: bool) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def forward(self) -> None:
            if not (self.path == prefix or self.path.startswith(prefix + "/")):
                self.send_error(404, "not under the proxied prefix")
                return
            path = (self.path[len(prefix) :] or "/") if strip else self.path
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Proto"] = "http"
            with httpx.Client(follow_redirects=False, timeout=10) as client:
                answer = client.request(
                    self.command, upstream + path, content=body, headers=headers
                )
            self.send_response(answer.status_code)
            for key, value in answer.headers.multi_items():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = forward
        do_POST = forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Forward


@contextmanager
def reverse_proxy(port: int, upstream: str, prefix: str, *, strip: bool) -> Iterator[str]:
    """Serve on 127.0.0.1:``port`` until the block ends; yields the public base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(upstream, prefix, strip))
    with in_thread(server):
        yield f"http://127.0.0.1:{port}{prefix}"
