"""The links every message carries for its reader: unsubscribe (HTTPS and mailto) and
preferences, all made from one signed token that names the reader and the segment."""

from __future__ import annotations

import os
import re
from urllib.parse import quote

from digest.deliver.ledger import Pending
from digest.deliver.message import Recipient
from digest.settings import SenderSettings
from digest.store.database import Store
from subscribers.tokens import TokenSigner

URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote() leaves as it is


def signer(store: Store) -> TokenSigner:
    """Signs links with DIGEST_SECRET_KEY, or a key generated once and kept in the store."""
    return TokenSigner(os.environ.get("DIGEST_SECRET_KEY") or store.secret("signing-key"))


def unsubscribe_mailbox(sender: SenderSettings) -> str:
    """Where mailto: unsubscribes go: the configured address, or unsubscribe@ the sender's
    domain."""
    return sender.unsubscribe_mailto or "unsubscribe@" + sender.email.rpartition("@")[2]


class Links:
    """Per-recipient links: one signed token serves unsubscribe, mailto and preferences."""

    def __init__(self, sender: SenderSettings, tokens: TokenSigner) -> None:
        base = sender.base_url.rstrip("/")
        self.tokens = tokens
        self._unsubscribe = f"{base}/unsubscribe/"
        self._preferences = f"{base}/preferences/"
        self._mailto = f"mailto:{unsubscribe_mailbox(sender)}?subject={quote('unsubscribe ')}"
        # Tokens are base64url and dots, which quote() leaves alone: check the form once.
        self._quote = not URL_SAFE.fullmatch(tokens.token(0, "sample list"))

    def recipient(self, row: Pending, segment: str) -> Recipient:
        delivery_id, email, subscriber_id, name = row
        return self.reader(delivery_id, email, name, self.tokens.token(subscriber_id, segment))

    def reader(self, delivery_id: int, email: str, name: str, token: str) -> Recipient:
        """A recipient whose links carry ``token``."""
        return Recipient(
            delivery_id,
            email,
            name,
            self._unsubscribe + token,
            self._preferences + token,
            self._mailto + (quote(token) if self._quote else token),
        )
