"""The delivery settings of a run: from the config, the parts a send needs."""

from __future__ import annotations

from dataclasses import replace

from digest.config import Config
from digest.deliver.settings import DeliverySettings, ListIdentity
from digest.render.email import title_of_segment


def delivery_settings(config: Config, backend: str = "") -> DeliverySettings:
    """What deliver needs of ``config``; ``backend`` overrides the configured one."""
    general = config.general
    smtp = config.smtp
    if smtp.ca_file:
        smtp = replace(smtp, ca_file=str(config.resolve(smtp.ca_file)))
    return DeliverySettings(
        backend=backend or general.backend,
        sender=config.sender,
        outbox_dir=config.outbox_dir,
        smtp=smtp,
        sendgrid=config.sendgrid,
        batch_size=general.batch_size,
        concurrency=general.concurrency,
        processes=general.processes,
        in_doubt=general.in_doubt,
        claim_timeout=general.claim_timeout,
        send=general.send,
        origin=str(config.path),
        lists=tuple(
            (name, ListIdentity(s.from_name or config.sender.name, title_of_segment(s)))
            for name, s in config.segments.items()
        ),
    )
