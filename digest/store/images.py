"""An article's lead image as it is stored, composed and rendered: one small value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Image:
    """An https image with its alt text ("" when the publisher gave none) and its size in
    pixels where known."""

    url: str
    alt: str = ""
    width: int | None = None
    height: int | None = None

    @classmethod
    def stored(
        cls, url: str | None, alt: str | None, width: int | None, height: int | None
    ) -> Image | None:
        """The image of an article's columns, or None when it has none."""
        return cls(url, alt or "", width, height) if url else None
