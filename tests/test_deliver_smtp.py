"""The SMTP backend against a real SMTP server (aiosmtpd) with STARTTLS and AUTH.

Each test builds a tiny newsroom (one RSS feed, a subscribers CSV, a config) in
``tmp_path`` and runs ``digest send`` through the CLI entry point.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from helpers import cli, free_port, ledger, send_segment, write_desk
from sqlalchemy import select

from digest.store.database import Store
from digest.store.models import DeliveryStatus, Edition, EditionStatus

EAI = "用户@example.com"  # an internationalised address: its local part needs SMTPUTF8
NO_SMTPUTF8 = "the SMTP server does not offer SMTPUTF8, which this address needs"

USER = "digest"
PASSWORD = "correct horse battery staple"
SEGMENT = "politics"
PEOPLE = {
    "ada@readers.example": "Ada Lovelace",
    "grace@readers.example": "Grace Hopper",
    "alan@readers.example": "Alan Turing",
}


# --- a certificate made here, trusted by the client through [smtp] ca_file ---


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, valid for a day either side of now."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# --- the SMTP server ---


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    mail_options: tuple[str, ...] = ()

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps each accepted envelope and can refuse or defer."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    defer_once: set[str] = field(default_factory=set)
    deferred: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if address in self.defer_once:
            self.defer_once.discard(address)
            self.deferred.append(address)
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                bytes(envelope.content),
                tuple(envelope.mail_options),
            )
        )
        return "250 2.0.0 queued"

    def recipients(self) -> list[str]:
        return [to for r in self.received for to in r.rcpt_tos]


@dataclass
class Authenticator:
    """Accepts USER with the right password, and records whether TLS was on."""

    password: str
    attempts: list[tuple[str, bool, bool]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == self.password.encode()
        )
        self.attempts.append((mechanism, ok, session.ssl is not None))
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    handler: Recorder
    auth: Authenticator


def serve(certificate: Certificate, *, smtputf8: bool = False) -> Iterator[SmtpServer]:
    """A server requiring STARTTLS and AUTH; offering SMTPUTF8 when asked to."""
    server = SmtpServer(free_port(), Recorder(), Authenticator(PASSWORD))
    controller = Controller(
        server.handler,
        hostname="127.0.0.1",
        port=server.port,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=server.auth,
        auth_required=True,
        auth_require_tls=True,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(certificate: Certificate) -> Iterator[SmtpServer]:
    yield from serve(certificate)


@pytest.fixture
def smtputf8_server(certificate: Certificate) -> Iterator[SmtpServer]:
    yield from serve(certificate, smtputf8=True)


# --- a tiny newsroom ---


def write_newsroom(
    folder: Path, database_url: str, port: int, ca_file: Path, people: dict[str, str] = PEOPLE
) -> Path:
    smtp = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\n'
        f'username = "{USER}"\ntimeout = 10\nca_file = {json.dumps(str(ca_file))}'
    )
    digest = 'backend = "outbox"\nbatch_size = 2'
    return write_desk(folder, people, database_url, digest=digest, more=smtp)


def send(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str]:
    """``digest send`` over SMTP: (exit code, stdout and stderr)."""
    return send_segment(capsys, config, "smtp", SEGMENT)


@pytest.fixture
def newsroom_smtp(
    tmp_path: Path,
    database_url: str,
    smtp_server: SmtpServer,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    return write_newsroom(tmp_path / "desk", database_url, smtp_server.port, certificate.cert)


# --- the tests ---


def test_starttls_and_auth_deliver_one_message_per_recipient(
    capsys: pytest.CaptureFixture[str],
    newsroom_smtp: Path,
    smtp_server: SmtpServer,
    store: Store,
) -> None:
    code, output = send(capsys, newsroom_smtp)

    assert code == 0, output
    assert sorted(smtp_server.handler.recipients()) == sorted(PEOPLE)
    assert all(len(r.rcpt_tos) == 1 for r in smtp_server.handler.received)
    assert {r.mail_from for r in smtp_server.handler.received} == {"digest@desk.example"}
    # Logged in only after STARTTLS, and successfully.
    assert smtp_server.auth.attempts
    assert all(ok and tls for _, ok, tls in smtp_server.auth.attempts)
    rows = ledger(store)
    assert {d.status for d in rows.values()} == {DeliveryStatus.sent}
    assert all(d.message_id.startswith("<digest.") for d in rows.values())


def test_messages_are_personal_multipart_and_one_click_unsubscribable(
    capsys: pytest.CaptureFixture[str], newsroom_smtp: Path, smtp_server: SmtpServer
) -> None:
    code, output = send(capsys, newsroom_smtp)
    assert code == 0, output

    seen: dict[str, tuple[str, str]] = {}
    for received in smtp_server.handler.received:
        message = received.message()
        (address,) = received.rcpt_tos
        assert message["To"].addresses[0].addr_spec == address
        unsubscribe = message.get_all("List-Unsubscribe")
        assert unsubscribe is not None and len(unsubscribe) == 1
        https_url, mailto = (part.strip().strip("<>") for part in str(unsubscribe[0]).split(","))
        assert https_url.startswith("https://desk.example/digest/unsubscribe/")
        assert mailto.startswith("mailto:")
        assert message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]

        text_part = message.get_body(("plain",))
        html_part = message.get_body(("html",))
        assert text_part is not None and html_part is not None
        text = text_part.get_content()
        html = html_part.get_content()
        for body in (text, html):
            assert "%%" not in body
            assert f"Hi {PEOPLE[address].split()[0]}," in body  # greeted by first name
            assert https_url in body
        seen[address] = (PEOPLE[address], https_url)

    assert set(seen) == set(PEOPLE)
    urls = [url for _, url in seen.values()]
    assert len(set(urls)) == len(urls)
    # Nobody's message carries another reader's name or link.
    for received in smtp_server.handler.received:
        (address,) = received.rcpt_tos
        content = received.message().get_body(("plain",))
        assert content is not None
        text = content.get_content()
        for other, (name, url) in seen.items():
            if other != address:
                assert name not in text and url not in text


def test_a_refused_recipient_is_recorded_failed_and_the_others_sent(
    capsys: pytest.CaptureFixture[str],
    newsroom_smtp: Path,
    smtp_server: SmtpServer,
    store: Store,
) -> None:
    smtp_server.handler.refuse["grace@readers.example"] = "550 5.1.1 no such user"

    code, output = send(capsys, newsroom_smtp)

    assert code == 0, output
    assert "1 failed" in output
    assert sorted(smtp_server.handler.recipients()) == [
        "ada@readers.example",
        "alan@readers.example",
    ]
    rows = ledger(store)
    assert rows["grace@readers.example"].status == DeliveryStatus.failed
    assert "550" in rows["grace@readers.example"].error
    assert "no such user" in rows["grace@readers.example"].error
    assert rows["ada@readers.example"].status == DeliveryStatus.sent
    assert rows["alan@readers.example"].status == DeliveryStatus.sent


def test_a_transient_refusal_is_retried_and_then_delivered(
    capsys: pytest.CaptureFixture[str],
    newsroom_smtp: Path,
    smtp_server: SmtpServer,
    store: Store,
) -> None:
    smtp_server.handler.defer_once.add("ada@readers.example")

    code, output = send(capsys, newsroom_smtp)

    assert code == 0, output
    assert smtp_server.handler.deferred == ["ada@readers.example"]
    assert sorted(smtp_server.handler.recipients()) == sorted(PEOPLE)
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}


def test_a_wrong_password_stops_cleanly_and_a_later_run_resumes_once(
    capsys: pytest.CaptureFixture[str],
    newsroom_smtp: Path,
    smtp_server: SmtpServer,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong password")

    code, output = send(capsys, newsroom_smtp)

    assert code != 0, output
    assert "Traceback" not in output
    problems = [line for line in output.splitlines() if "DIGEST_SMTP_PASSWORD" in line]
    assert len(problems) == 1, output
    assert "refused the login" in problems[0]
    assert smtp_server.handler.received == []
    assert smtp_server.auth.attempts and not any(ok for _, ok, _ in smtp_server.auth.attempts)
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.pending}
    with store.session() as session:
        (edition,) = session.scalars(select(Edition))
        assert edition.status == EditionStatus.sending

    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    code, output = send(capsys, newsroom_smtp)

    assert code == 0, output
    assert sorted(smtp_server.handler.recipients()) == sorted(PEOPLE)
    rows = ledger(store)
    assert sorted(rows) == sorted(PEOPLE)
    assert {d.status for d in rows.values()} == {DeliveryStatus.sent}
    with store.session() as session:
        (edition,) = session.scalars(select(Edition))
        assert edition.status == EditionStatus.sent


# --- internationalised addresses (SMTPUTF8) ---

# Batches of two in subscriber order: Ada and the EAI reader, then Alan. The EAI reader's
# message comes after one the server has accepted in the same batch.
WITH_EAI = {
    "ada@readers.example": "Ada Lovelace",
    EAI: "Zhang Wei 张伟",
    "alan@readers.example": "Alan Turing",
}


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")


def test_an_internationalised_address_goes_over_smtputf8_and_the_others_stay_ascii(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    smtputf8_server: SmtpServer,
    certificate: Certificate,
    store: Store,
    passwords: None,
) -> None:
    config = write_newsroom(
        tmp_path / "desk", database_url, smtputf8_server.port, certificate.cert, WITH_EAI
    )

    code, output = send(capsys, config)

    assert code == 0, output
    handler = smtputf8_server.handler
    assert sorted(handler.recipients()) == sorted(WITH_EAI)
    by_reader = {r.rcpt_tos[0]: r for r in handler.received}
    international = by_reader[EAI]
    assert "SMTPUTF8" in international.mail_options
    raw = international.content.decode("utf-8")  # strict: UTF-8 throughout
    (to_line,) = [line for line in raw.splitlines() if line.startswith("To:")]
    assert to_line == f"To: Zhang Wei 张伟 <{EAI}>"  # as it is: no encoded word
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == EAI
    text = message.get_body(("plain",))
    assert text is not None and "Hi Zhang," in text.get_content()
    for address in ("ada@readers.example", "alan@readers.example"):
        assert "SMTPUTF8" not in by_reader[address].mail_options
        assert by_reader[address].content.isascii()
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}


def test_without_smtputf8_that_reader_fails_alone_and_the_accepted_stay_sent(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    smtp_server: SmtpServer,
    certificate: Certificate,
    store: Store,
    passwords: None,
) -> None:
    config = write_newsroom(
        tmp_path / "desk", database_url, smtp_server.port, certificate.cert, WITH_EAI
    )

    code, output = send(capsys, config)

    assert code == 0, output
    assert "1 failed" in output
    everyone_else = ["ada@readers.example", "alan@readers.example"]
    assert sorted(smtp_server.handler.recipients()) == everyone_else  # once each
    rows = ledger(store)
    assert rows[EAI].batch == rows["ada@readers.example"].batch  # after Ada, in her batch
    assert rows[EAI].status == DeliveryStatus.failed
    assert rows[EAI].error == NO_SMTPUTF8
    assert all(rows[address].status == DeliveryStatus.sent for address in everyone_else)
    with store.session() as session:
        (edition,) = session.scalars(select(Edition))
        assert edition.status == EditionStatus.sent

    code, shown = cli(capsys, "status", "--config", str(config))
    assert code == 0, shown
    assert f"  1 failed: {NO_SMTPUTF8}" in shown.splitlines()
    code, shown = cli(capsys, "status", "--json", "--config", str(config))
    assert code == 0, shown
    assert json.loads(shown)["failure_reasons"] == {NO_SMTPUTF8: 1}

    code, output = cli(capsys, "resume", "--config", str(config))
    assert code == 0 and "nothing to resume" in output
    assert sorted(smtp_server.handler.recipients()) == everyone_else  # nobody twice


def test_resume_finishes_an_edition_left_with_an_internationalised_reader_pending(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
    smtputf8_server: SmtpServer,
    certificate: Certificate,
    store: Store,
    passwords: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_newsroom(
        tmp_path / "desk", database_url, smtputf8_server.port, certificate.cert, WITH_EAI
    )
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong password")
    code, output = send(capsys, config)
    assert code != 0, output
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.pending}

    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    code, output = cli(capsys, "resume", "--config", str(config))

    assert code == 0, output
    assert sorted(smtputf8_server.handler.recipients()) == sorted(WITH_EAI)
    assert {d.status for d in ledger(store).values()} == {DeliveryStatus.sent}
    with store.session() as session:
        (edition,) = session.scalars(select(Edition))
        assert edition.status == EditionStatus.sent
