"""Pick and build the configured delivery backend."""

from __future__ import annotations

import os
from dataclasses import replace

from digest.config import BACKENDS, Config
from digest.deliver.backend import Backend
from digest.deliver.outbox import OutboxBackend
from digest.deliver.sendgrid import SendGridBackend
from digest.deliver.smtp import SmtpBackend
from digest.errors import ConfigError
from digest.settings import env_secret


def make_backend(config: Config, name: str = "") -> Backend:
    name = name or config.general.backend
    if name == "outbox":
        return OutboxBackend(config.outbox_dir)
    if name == "smtp":
        smtp = config.smtp
        if smtp.ca_file:
            smtp = replace(smtp, ca_file=str(config.resolve(smtp.ca_file)))
        password = env_secret("DIGEST_SMTP_PASSWORD")
        if smtp.username and not password:
            raise ConfigError(
                f"{config.path} [smtp] username: {smtp.username!r} logs in, but "
                "DIGEST_SMTP_PASSWORD is not set; export it, or empty username to send "
                "without logging in"
            )
        return SmtpBackend(smtp, password)
    if name == "sendgrid":
        host = os.environ.get("SENDGRID_API_HOST", "")
        return SendGridBackend(config.sendgrid, env_secret("SENDGRID_API_KEY"), host=host)
    raise ConfigError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
