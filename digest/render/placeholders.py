"""Per-recipient placeholders: what one render leaves for the backend to fill in per reader.

Each render picks a random nonce and writes its placeholders with it
(``%%unsubscribe_url_html_3f9c...%%``), so no article, title or name written before the
render can contain one (DESIGN decision 8): text that looks like a placeholder stays text.
The nonce is stored with the render (``placeholder_nonce`` of an edition or a variant).
Renders stored before nonces (an empty nonce) use the old fixed placeholders.

The text and the HTML part have placeholders of their own, because SendGrid substitutes
one value per key everywhere: a value is escaped for the part it lands in, HTML-escaped
(text and quoted attributes alike) in the HTML part and as it is in the plain text.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Part = Literal["text", "html"]
KEYS = ("name", "greeting", "unsubscribe_url", "preferences_url")
NONCE = re.compile(r"[0-9a-f]{16}")
# Renders without a nonce: placeholder → key, per part.
_FIXED: dict[Part, dict[str, str]] = {
    "text": {
        "%%name%%": "name",
        "%%unsubscribe_url%%": "unsubscribe_url",
        "%%preferences_url%%": "preferences_url",
    },
    "html": {
        "%%name_html%%": "name",
        "%%unsubscribe_url%%": "unsubscribe_url",
        "%%preferences_url%%": "preferences_url",
    },
}


@dataclass(frozen=True)
class Placeholders:
    """The placeholders of one render; ``nonce`` "" is a render stored before nonces."""

    nonce: str

    @classmethod
    def fresh(cls) -> Placeholders:
        return cls(secrets.token_hex(8))

    def __post_init__(self) -> None:
        if self.nonce and not NONCE.fullmatch(self.nonce):
            raise ValueError(f"not a placeholder nonce: {self.nonce!r}")

    def tokens(self, part: Part) -> dict[str, str]:
        """Placeholder → key (one of :data:`KEYS`) in ``part``."""
        if not self.nonce:
            return dict(_FIXED[part])
        return {f"%%{key}_{part}_{self.nonce}%%": key for key in KEYS}

    def of(self, part: Part) -> dict[str, str]:
        """Key → placeholder in ``part``: what a template writes (``{{ reader.name }}``)."""
        return {key: token for token, key in self.tokens(part).items()}

    def fill(self, body: str, part: Part, values: Mapping[str, str]) -> str:
        """``body`` with each placeholder of ``part`` replaced by its key's value, escaped
        for the part, in one pass: a value is never searched for placeholders again."""
        filled = self.substitutions(part, values)
        return _pattern(tuple(filled)).sub(lambda found: filled[found.group()], body)

    def substitutions(self, part: Part, values: Mapping[str, str]) -> dict[str, str]:
        """Placeholder → the value that replaces it in ``part``."""
        return {token: escape(values[key], part) for token, key in self.tokens(part).items()}


def escape(value: str, part: Part) -> str:
    """``value`` as it may stand in ``part``: HTML text or a quoted attribute, or plain text."""
    return html.escape(value, quote=True) if part == "html" else value


@functools.lru_cache(maxsize=64)
def _pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, tokens)))
