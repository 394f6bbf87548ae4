"""Signed, opaque tokens that identify a subscriber (and a list) in a link."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from subscribers.errors import BadTokenError


@dataclass(frozen=True)
class UnsubscribeClaim:
    subscriber_id: int
    list_name: str


class TokenSigner:
    """Makes and checks the tokens in unsubscribe and preferences links."""

    def __init__(self, secret: str) -> None:
        self._unsubscribe = URLSafeSerializer(secret, salt="digest.unsubscribe")
        self._preferences = URLSafeSerializer(secret, salt="digest.preferences")

    def unsubscribe_token(self, subscriber_id: int, list_name: str) -> str:
        return str(self._unsubscribe.dumps([subscriber_id, list_name]))

    def preferences_token(self, subscriber_id: int) -> str:
        return str(self._preferences.dumps(subscriber_id))

    def read_unsubscribe(self, token: str) -> UnsubscribeClaim:
        try:
            subscriber_id, list_name = self._unsubscribe.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise BadTokenError("invalid or altered unsubscribe token") from None
        return UnsubscribeClaim(int(subscriber_id), str(list_name))

    def read_preferences(self, token: str) -> int:
        try:
            return int(self._preferences.loads(token))
        except (BadSignature, ValueError, TypeError):
            raise BadTokenError("invalid or altered preferences token") from None
