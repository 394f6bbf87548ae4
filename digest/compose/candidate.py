"""What composing knows of an article: everything but its text, which only summaries need."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from digest.store.images import Image
from digest.store.models import Article


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    url: str
    title: str
    author: str
    published_at: datetime
    first_seen_at: datetime
    cluster_id: int | None
    content_hash: str
    source_name: str
    outlet: str  # the source's title, or its name when it has none
    tags: tuple[str, ...]  # sorted
    tag_set: frozenset[str]
    image: Image | None = None  # the lead image
    stamp: float = field(init=False)  # published_at as a POSIX timestamp, for ranking

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamp", self.published_at.timestamp())

    @property
    def story(self) -> int:
        """The story the article reports: its cluster, or itself when it has none."""
        return self.cluster_id or self.id

    @classmethod
    def of(cls, article: Article) -> Candidate:
        tags = tuple(article.tag_names)
        return cls(
            id=article.id,
            url=article.url,
            title=article.title,
            author=article.author or "",
            published_at=article.published_at,
            first_seen_at=article.first_seen_at,
            cluster_id=article.cluster_id,
            content_hash=article.content_hash or "",
            source_name=article.source.name,
            outlet=article.source.title or article.source.name,
            tags=tags,
            tag_set=frozenset(tags),
            image=article.image,
        )
