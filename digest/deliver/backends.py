"""Build the chosen delivery backend from the delivery settings."""

from __future__ import annotations

import os

from digest.deliver.outbox import OutboxBackend
from digest.deliver.protocol import Backend
from digest.deliver.sendgrid import SendGridBackend
from digest.deliver.settings import DeliverySettings
from digest.deliver.smtp import SmtpBackend
from digest.errors import ConfigError
from digest.settings import BACKENDS, env_secret


def make_backend(settings: DeliverySettings, name: str = "") -> Backend:
    """The backend ``name`` (default: the settings' own), ready to send; ConfigError when
    it cannot be, saying what to set."""
    name = name or settings.backend
    if name == "outbox":
        return OutboxBackend(settings.outbox_dir)
    if name == "smtp":
        smtp = settings.smtp
        password = env_secret("DIGEST_SMTP_PASSWORD")
        if smtp.username and not password:
            raise ConfigError(
                f"{settings.origin} [smtp] username: {smtp.username!r} logs in, but "
                "DIGEST_SMTP_PASSWORD is not set; export it, or empty username to send "
                "without logging in"
            )
        return SmtpBackend(smtp, password)
    if name == "sendgrid":
        host = os.environ.get("SENDGRID_API_HOST", "")
        return SendGridBackend(settings.sendgrid, env_secret("SENDGRID_API_KEY"), host=host)
    raise ConfigError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
