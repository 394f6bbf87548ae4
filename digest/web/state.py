"""What every endpoint shares: the configuration, the store, signers, limits and pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from digest.clock import Clock, utcnow
from digest.config import Config
from digest.deliver.protocol import Backend
from digest.store.database import Store
from digest.store.tags import normalise_tags
from digest.web.forms import BadRequest
from digest.web.pages import Pages
from digest.web.ratelimit import RateLimiter
from subscribers.consent import ConsentTokens
from subscribers.tokens import TokenSigner

MAX_TAGS = 50  # topics one reader may follow
MAX_TAG_LENGTH = 50  # characters of one topic, once normalised


@dataclass
class AppState:
    config: Config
    store: Store
    pages: Pages
    links: TokenSigner  # unsubscribe and preferences links, as in every email
    consent: ConsentTokens  # confirmation links
    by_ip: RateLimiter
    by_address: RateLimiter
    webhook_key: object | None  # an EllipticCurvePublicKey, or None when not configured
    make_backend: Callable[[], Backend]
    clock: Clock = utcnow
    secret: str = ""  # signs the desk's session cookie (with a salt of its own)

    @property
    def base_url(self) -> str:
        return self.config.sender.base_url.rstrip("/")

    @cached_property
    def lists(self) -> dict[str, str]:
        """List name → label, for the lists offered on the sign-up and preferences pages."""
        labels: dict[str, str] = {}
        for segment in self.config.segments.values():
            title = segment.title or segment.name.replace("-", " ").title()
            for name in segment.lists:
                labels.setdefault(name, title)
        offered = self.config.web.public_lists or tuple(labels)
        return {name: labels.get(name, name) for name in offered}

    @cached_property
    def tags(self) -> tuple[str, ...]:
        """Tags offered to follow: those the segments select on, normalised."""
        raw = [t for s in self.config.segments.values() for t in s.include_tags]
        return tuple(sorted(normalise_tags(raw, self.config.intake.tag_synonyms)))

    def normalise_tags(self, raw: list[str]) -> tuple[str, ...]:
        return normalise_tags(raw, self.config.intake.tag_synonyms)

    def chosen_tags(self, raw: list[str]) -> tuple[str, ...]:
        """Topics a reader submitted, normalised; BadRequest if one is too long or too many."""
        tags = self.normalise_tags(raw)
        long = next((t for t in tags if len(t) > MAX_TAG_LENGTH), "")
        if long:
            raise BadRequest(
                f"a topic may have at most {MAX_TAG_LENGTH} characters; "
                f"{long[:20]}… has {len(long)}"
            )
        if len(tags) > MAX_TAGS:
            raise BadRequest(f"follow at most {MAX_TAGS} topics; {len(tags)} were given")
        return tags
