"""Articles' lead images: what feeds, pages and WordPress say, made into one safe value.

Each kind of source names its image its own way (Media RSS ``media:content``, an image
enclosure, JSON Feed ``image``, ``og:image``, WordPress's featured media); each hands
:func:`lead_image` what it found, best first, as :class:`ImageRef` values. The first that
is usable wins: an https address with a host and nothing odd in it, resolved against the
article's own address when relative. A bad value is skipped quietly, never the article.

An email only points at the image and Digest never fetches it, but every reader's mail
client (or their provider's image proxy) will, so :func:`guarded` keeps out what the
fetcher would refuse: hosts spelled as private, loopback or link-local addresses, unless
the source is trusted with them (``allow_private``, ``[intake] allow_hosts``). Names are
not resolved at intake.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from digest.intake.netguard import literal_kind
from digest.intake.urls import join_url
from digest.store.images import Image

MAX_URL = 2000  # the column's size
MAX_ALT = 500
MAX_SIDE = 50_000  # pixels; more is a typo, not a size
UNSAFE = re.compile(r"[\x00-\x20\x7f\"'<>\\`]")
TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class ImageRef:
    """An image as a source names it: an address (perhaps relative), alt text and a size
    as given (text or numbers), nothing checked yet."""

    url: Any
    alt: Any = ""
    width: Any = None
    height: Any = None


def lead_image(refs: Iterable[ImageRef], base: str = "") -> Image | None:
    """The first usable image of ``refs``, its address resolved against ``base``."""
    for ref in refs:
        found = image_of(ref, base)
        if found is not None:
            return found
    return None


def image_of(ref: ImageRef, base: str = "") -> Image | None:
    """``ref`` as an :class:`Image`, or None when its address is not a usable https one."""
    if not isinstance(ref.url, str) or not ref.url.strip():
        return None
    url = ref.url.strip()
    if base:
        url = join_url(base, url) or ""
    if not url or len(url) > MAX_URL or UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a malformed port raises ValueError
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not host or "@" in parts.netloc:
        return None
    return Image(url=url, alt=plain(ref.alt), width=side(ref.width), height=side(ref.height))


def guarded(
    image: Image | None, *, allow_hosts: Collection[str] = (), trusted_host: str = ""
) -> Image | None:
    """``image`` unless its host is spelled as an address the fetcher refuses; hosts in
    ``allow_hosts`` and the ``trusted_host`` (a source's own, with ``allow_private``) pass."""
    if image is None:
        return None
    host = (urlsplit(image.url).hostname or "").lower().rstrip(".")
    trusted = {h.lower().rstrip(".") for h in (*allow_hosts, trusted_host) if h}
    if host in trusted or not literal_kind(host):
        return image
    return None


def plain(value: Any) -> str:
    """Alt text as one line of plain text: tags dropped, entities decoded, cut at MAX_ALT."""
    if not isinstance(value, str):
        return ""
    text = " ".join(html.unescape(TAGS.sub(" ", value)).split())
    return text if len(text) <= MAX_ALT else text[: MAX_ALT - 1].rstrip() + "…"


def side(value: Any) -> int | None:
    """A width or height in pixels ("1200", 1200, "1200px"), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        digits = value.strip().removesuffix("px").strip()
        value = int(digits) if digits.isascii() and digits.isdigit() else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_SIDE:
        return value
    return None
