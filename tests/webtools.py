"""Helpers of the web app's tests: a site over the example newsroom, signed webhook posts,
confirmation emails read back from the outbox, and a real `digest serve` on a free port."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette

from digest.config import Config, load_config
from digest.store.database import Store
from digest.web.app import create_app
from digest.web.state import AppState

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Signer:
    """A P-256 key pair like the one SendGrid signs its Event Webhook with."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public(self) -> str:
        der = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode("ascii")

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            SIGNATURE: base64.b64encode(signature).decode("ascii"),
            TIMESTAMP: stamp,
        }


def append_toml(config_path: Path, text: str) -> None:
    with config_path.open("a", encoding="utf-8") as f:
        f.write("\n" + text + "\n")


def set_base_url(config_path: Path, base_url: str) -> None:
    body = config_path.read_text(encoding="utf-8")
    body = re.sub(r'^base_url = ".*"$', f'base_url = "{base_url}"', body, count=1, flags=re.M)
    config_path.write_text(body, encoding="utf-8")


class Client:
    """A synchronous client that calls the app in process through httpx's ASGI transport."""

    def __init__(self, app: Starlette, base_url: str = "https://newsroom.example") -> None:
        self.app = app
        self.base_url = base_url

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, url, **options)

        return asyncio.run(call())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)


class Browser:
    """A client that keeps its cookies between requests, as a browser does, calling the app
    in process from the client address ``client``; :meth:`submit` fills a page's form."""

    def __init__(
        self,
        app: Starlette,
        base_url: str = "https://newsroom.example",
        client: str = "127.0.0.1",
    ) -> None:
        self.app = app
        self.base_url = base_url
        self.client = client
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(self.client, 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url=self.base_url, cookies=self.cookies
            ) as client:
                response = await client.request(method, url, **options)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return asyncio.run(call())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def submit(
        self, page: httpx.Response, button: str, scope: str = "", **fields: str
    ) -> httpx.Response:
        """Press the button whose text is ``button`` in ``page`` (within the element whose
        id is ``scope``, if given): its form's fields as the page has them, ``fields`` typed
        in, the button's own name and value, posted to its form's (or its own) action."""
        soup = BeautifulSoup(page.text, "html.parser")
        root = soup.find(id=scope) if scope else soup
        assert root is not None, f"no element #{scope}"
        pressed = [b for b in root.find_all("button") if b.get_text(strip=True) == button]
        assert pressed, f"no button {button!r}"
        form = pressed[0].find_parent("form")
        assert form is not None
        data: dict[str, str] = {}
        for control in form.find_all(["input", "textarea", "select"]):
            name = control.get("name")
            unchecked = (
                control.get("type") in ("checkbox", "radio") and "checked" not in control.attrs
            )
            if not name or unchecked:
                continue
            if control.name == "textarea":
                data[name] = control.get_text()
            elif control.name == "select":
                chosen = control.find("option", selected=True) or control.find("option")
                data[name] = chosen.get("value", "") if chosen else ""
            else:
                data[name] = control.get("value", "")
        if pressed[0].get("name"):
            data[pressed[0]["name"]] = pressed[0].get("value", "")
        data.update(fields)
        action = pressed[0].get("formaction") or form.get("action")
        return self.post(str(action), data=data)


@dataclass
class Site:
    config: Config
    store: Store
    client: Client
    clock: Clock
    signer: Signer

    @property
    def web(self) -> AppState:
        web: AppState = self.client.app.state.web
        return web

    @property
    def outbox(self) -> Path:
        return self.config.outbox_dir

    def soup(self, response: httpx.Response) -> BeautifulSoup:
        return BeautifulSoup(response.text, "html.parser")


@contextmanager
def open_site(config_path: Path, store: Store, *, webhook_key: str | None = None) -> Iterator[Site]:
    config = load_config(config_path)
    clock = Clock()
    signer = Signer()
    key = signer.public if webhook_key is None else webhook_key
    app = create_app(config, store, clock=clock, webhook_key=key)
    yield Site(config, store, Client(app), clock, signer)


def read_message(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def confirmations(outbox: Path, address: str) -> list[Path]:
    return sorted((outbox / "confirmations").rglob(f"*-{address}.eml"))


def confirm_link(outbox: Path, address: str, wait: float = 0.0) -> str:
    """The confirmation URL of the latest confirmation email to ``address``.

    ``wait``: seconds to wait for it (a real server sends it after answering).
    """
    deadline = time.monotonic() + wait
    found = confirmations(outbox, address)
    while not found and time.monotonic() < deadline:
        time.sleep(0.05)
        found = confirmations(outbox, address)
    assert found, f"no confirmation email to {address}"
    message = read_message(found[-1])
    text = message.get_body(("plain",))
    assert text is not None
    match = re.search(r"(https?://\S+/confirm/\S+)", text.get_content())
    assert match, "no confirmation link in the email"
    return match.group(1)


def path_of(url: str) -> str:
    return httpx.URL(url).raw_path.decode("ascii")


@contextmanager
def serving(config_path: Path, port: int, log: Path) -> Iterator[str]:
    """Run ``digest serve`` in a subprocess until the block ends; yields its base URL."""
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-c",
        "from digest.cli import main; main()",
        "serve",
        "--config",
        str(config_path),
        "--port",
        str(port),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ}
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("digest serve did not start: " + log.read_text())
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def events_body(*events: dict[str, Any]) -> bytes:
    return json.dumps(list(events)).encode("utf-8")


def add_subscriber(
    store: Store, address: str, lists: tuple[str, ...] = ("politics-daily",), **values: Any
) -> int:
    """An active, confirmed subscriber on ``lists``; returns their id."""
    from subscribers.models import Membership, Status, Subscriber

    now = datetime.now(UTC)
    with store.session() as session:
        subscriber = Subscriber(
            email=address,
            name=values.pop("name", ""),
            status=values.pop("status", Status.active),
            followed_tags=values.pop("followed_tags", []),
            attributes=values.pop("attributes", {}),
            signed_up_at=now,
            confirmed_at=now,
            lists=[Membership(list_name=n) for n in lists],
            **values,
        )
        session.add(subscriber)
        session.flush()
        return subscriber.id


def run_digest(config_path: Path, *command: str) -> None:
    """`digest run` (or another command) in process; fails the test on a non-zero exit."""
    from digest.cli import main

    try:
        main([*(command or ["run"]), "--config", str(config_path)])
    except SystemExit as e:
        assert not e.code, f"digest run exited with {e.code}"


def add_feed_item(config_path: Path, slug: str, title: str, tags: list[str]) -> str:
    """Publish one more article in the example's JSON Feed; returns its URL."""
    feed = config_path.parent / "feeds" / "civic-wire.json"
    data = json.loads(feed.read_text(encoding="utf-8"))
    url = f"https://civicwire.example/news/{slug}"
    text = " ".join(
        f"Sentence {n} of a report on {title.lower()} with plain facts." for n in range(8)
    )
    data["items"].insert(
        0,
        {
            "id": url,
            "url": url,
            "title": title,
            "content_html": f"<p>{text}</p>",
            "date_published": datetime.now(UTC).isoformat(),
            "tags": tags,
        },
    )
    feed.write_text(json.dumps(data), encoding="utf-8")
    return url
