"""Send an edition batch by batch through a backend, recording each outcome in the ledger."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from digest.config import Config
from digest.deliver import ledger
from digest.deliver.backend import Backend
from digest.deliver.message import Outgoing, Recipient
from digest.errors import DeliveryError
from digest.render.email import Rendered
from digest.store.database import Store
from digest.store.models import Delivery, Edition, EditionStatus
from subscribers.models import Subscriber
from subscribers.tokens import TokenSigner

Clock = Callable[[], datetime]


def signer(store: Store) -> TokenSigner:
    """Signs links with DIGEST_SECRET_KEY, or a key generated once and kept in the store."""
    return TokenSigner(os.environ.get("DIGEST_SECRET_KEY") or store.secret("signing-key"))


def outgoing_for(config: Config, edition: Edition) -> Outgoing:
    domain = config.sender.email.rpartition("@")[2]
    return Outgoing(
        edition_id=edition.id,
        segment=edition.segment,
        rendered=Rendered(edition.subject, edition.preheader, edition.html, edition.text, ()),
        from_name=config.sender.name,
        from_email=config.sender.email,
        reply_to=config.sender.reply_to,
        list_id=f"<{edition.segment}.{domain}>",
    )


def recipient_for(
    config: Config, tokens: TokenSigner, delivery: Delivery, subscriber: Subscriber, segment: str
) -> Recipient:
    base = config.sender.base_url.rstrip("/")
    token = tokens.unsubscribe_token(subscriber.id, segment)
    mailbox = config.sender.unsubscribe_mailto or (
        "unsubscribe@" + config.sender.email.rpartition("@")[2]
    )
    return Recipient(
        delivery_id=delivery.id,
        email=delivery.email,
        name=subscriber.name,
        unsubscribe_url=f"{base}/unsubscribe/{token}",
        preferences_url=f"{base}/preferences/{tokens.preferences_token(subscriber.id)}",
        unsubscribe_mailto=f"mailto:{mailbox}?subject={quote('unsubscribe ' + token)}",
    )


def deliver_edition(
    store: Store, config: Config, backend: Backend, edition_id: int, clock: Clock | None = None
) -> ledger.Counts:
    """Send every pending batch of an edition; the edition is marked sent when none remain."""
    clock = clock or (lambda: datetime.now(UTC))
    tokens = signer(store)
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        outgoing = outgoing_for(config, edition)
        batches = ledger.pending_batches(session, edition_id)
    try:
        for batch in batches:
            with store.session() as session:
                rows = ledger.batch_rows(session, edition_id, batch)
                recipients = [
                    recipient_for(config, tokens, d, s, outgoing.segment) for d, s in rows
                ]
            if not recipients:
                continue
            try:
                outcome = backend.send_batch(outgoing, recipients, batch)
            except DeliveryError as e:
                if not e.permanent:
                    raise  # transient: the batch stays pending for `digest resume`
                with store.session() as session:
                    ledger.record_batch_error(session, edition_id, batch, str(e))
                continue
            with store.session() as session:
                ledger.record_outcome(session, outcome, clock())
    finally:
        backend.close()
    with store.session() as session:
        result = ledger.counts(session, edition_id)
        if result.pending == 0:
            edition = session.get_one(Edition, edition_id)
            edition.status = EditionStatus.sent
            edition.sent_at = edition.sent_at or clock()
    return result
