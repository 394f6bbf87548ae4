"""The SMTP backend: one connection per batch, STARTTLS or SSL, per-recipient results."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from digest.deliver.message import Outgoing, Recipient, build_message
from digest.deliver.protocol import BatchOutcome, unbuildable
from digest.errors import DeliveryError
from digest.settings import Secret, SmtpSettings

TRANSIENT_RETRIES = 3


class SmtpLoginError(DeliveryError):
    """The server refused the login: nothing went, so the recipients stay pending.

    Not retried (the same password fails again) and not permanent (the recipients are
    fine): the run stops and ``digest send`` resumes once the password is fixed.
    """


class SmtpBackend:
    name = "smtp"
    idempotent = False

    def __init__(self, settings: SmtpSettings, password: Secret) -> None:
        self.settings = settings
        self._password = password
        self._connection: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self.settings
        connection: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self._context()
                )
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    connection.starttls(context=self._context())
            if s.username:
                connection.login(s.username, self._password.reveal())
        except smtplib.SMTPAuthenticationError as e:
            _discard(connection)
            raise SmtpLoginError(
                f"SMTP {s.host}:{s.port} refused the login for {s.username!r}; "
                "check DIGEST_SMTP_PASSWORD"
            ) from e
        except (OSError, smtplib.SMTPException) as e:
            _discard(connection)
            raise DeliveryError(f"cannot connect to SMTP {s.host}:{s.port}: {e}") from e
        self._connection = connection
        return connection

    def send_batch(
        self, outgoing: Outgoing, recipients: Sequence[Recipient], batch: int
    ) -> BatchOutcome:
        """Send each message on the batch's connection. A message that cannot be built or
        sent fails its recipient alone; when the connection cannot be kept, what was
        accepted so far is returned (the rest stay pending) or, if nothing was, it raises."""
        outcome = BatchOutcome()
        date = format_datetime(datetime.now(UTC))
        for recipient in recipients:
            try:
                message = build_message(outgoing, recipient, date=date)
                sender = message["From"].addresses[0].addr_spec
                to = message["To"].addresses[0].addr_spec
            except Exception as e:  # this recipient's message alone
                outcome.failed[recipient.delivery_id] = unbuildable(e)
                continue
            try:
                refused = self._deliver(message, sender, to)
            except DeliveryError:
                if outcome.accepted or outcome.failed:
                    return outcome  # the rest stay pending in the ledger for a resume
                raise
            if refused:
                outcome.failed[recipient.delivery_id] = refused
            else:
                outcome.accepted[recipient.delivery_id] = str(message["Message-ID"])
        return outcome

    def _deliver(self, message: EmailMessage, sender: str, to: str) -> str:
        """Hand one message over from ``sender`` to ``to``, retrying transient trouble: ""
        when the server took it, else why it refused it for good. Raises DeliveryError
        when the connection cannot be kept."""
        attempts = 0
        while True:
            attempts += 1
            last = attempts >= TRANSIENT_RETRIES
            try:
                self._connect().send_message(message, sender, [to])
            except smtplib.SMTPRecipientsRefused as e:
                code, reply = next(iter(e.recipients.values()))
                if code < 500 and not last:
                    continue
                return f"{code} {_text(reply)}"
            except smtplib.SMTPResponseException as e:
                if e.smtp_code < 500 and not last:
                    self.close()
                    continue
                return f"{e.smtp_code} {_text(e.smtp_error)}"
            except smtplib.SMTPNotSupportedError:  # raised before anything was sent
                needs = "this address needs" if not to.isascii() else "the sender address needs"
                return f"the SMTP server does not offer SMTPUTF8, which {needs}"
            except (smtplib.SMTPServerDisconnected, OSError, DeliveryError) as e:
                self.close()
                retry = not isinstance(e, SmtpLoginError) and not getattr(e, "permanent", False)
                if retry and not last:
                    continue
                if isinstance(e, DeliveryError):
                    raise
                raise DeliveryError(f"SMTP {self.settings.host} keeps disconnecting") from e
            except Exception as e:  # this message's own trouble, wherever it arose
                self.close()  # the conversation may be mid-command: the next one starts afresh
                return f"cannot send this message: {type(e).__name__}: {e}"
            return ""

    def close(self) -> None:
        _discard(self._connection)
        self._connection = None


def _discard(connection: smtplib.SMTP | None) -> None:
    """Say QUIT if the server still listens, and always close the socket."""
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.quit()
        connection.close()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
