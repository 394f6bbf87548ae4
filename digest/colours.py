"""Colours of the email: parse a brand colour, measure contrast (WCAG 2.x), and find a tint
of it that reads on the dark-mode background."""

from __future__ import annotations

import re

HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
WHITE = "#ffffff"
READABLE = 4.5  # WCAG AA for body text


def normalise(colour: str) -> str:
    """``#abc`` or ``#AABBCC`` as ``#aabbcc``; raises ``ValueError`` for anything else."""
    if not HEX.fullmatch(colour):
        raise ValueError(f"{colour!r} is not a hex colour such as #0b4f8a")
    digits = colour[1:].lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits


def _channels(colour: str) -> tuple[int, int, int]:
    digits = normalise(colour)[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def luminance(colour: str) -> float:
    """Relative luminance, as WCAG defines it."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tint_for(colour: str, background: str, ratio: float = READABLE) -> str:
    """``colour`` mixed with white, as little as keeps ``ratio`` against ``background``
    (a dark one): the brand's hue for links in dark mode."""
    r, g, b = _channels(colour)
    for step in range(0, 101, 5):
        mix = step / 100
        mixed = "#" + "".join(f"{round(c + (255 - c) * mix):02x}" for c in (r, g, b))
        if contrast(mixed, background) >= ratio:
            return mixed
    return WHITE
