"""Tables of Digest's own state: sources, articles, editions and the send ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from digest.store.images import Image
from subscribers.db import Base, UTCDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20)


class SourceStatus(enum.StrEnum):
    active = "active"
    paused = "paused"  # too many consecutive failures; `digest sources` reports it
    retired = "retired"  # the source answered 410 Gone


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="feed", server_default="feed")
    status: Mapped[SourceStatus] = mapped_column(
        _enum(SourceStatus), default=SourceStatus.active, server_default="active"
    )
    location: Mapped[str] = mapped_column(Text)  # fetched from; a 301 moves it
    configured: Mapped[str] = mapped_column(Text, default="", server_default="")  # in the config
    cursor: Mapped[str] = mapped_column(String(100), default="", server_default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)  # the canonical URL
    title: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True, default="", server_default="")
    cluster_id: Mapped[int | None] = mapped_column(
        Integer, index=True
    )  # first article of its story
    author: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    # The lead image (digest.intake.images): https only; "" and None when it has none.
    image_url: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    image_alt: Mapped[str] = mapped_column(Text, default="", server_default="")
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    # the publisher's standfirst (feed summary or og:description), "" when it has none
    standfirst: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[Source] = relationship(lazy="joined")
    tags: Mapped[list[ArticleTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="article"
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)

    @property
    def image(self) -> Image | None:
        return Image.stored(self.image_url, self.image_alt, self.image_width, self.image_height)


class ArticleTag(Base):
    __tablename__ = "article_tags"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    article: Mapped[Article] = relationship(back_populates="tags")


class SourceLine(Base):
    """How many of a source's articles carried a line: recurring lines are boilerplate."""

    __tablename__ = "source_lines"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    line_hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class EditionStatus(enum.StrEnum):
    sending = "sending"
    sent = "sent"


class Edition(Base):
    """One issue of a segment's digest, rendered once; unique per (segment, slot)."""

    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("segment", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment: Mapped[str] = mapped_column(String(100), index=True)
    slot: Mapped[str] = mapped_column(String(100))
    status: Mapped[EditionStatus] = mapped_column(_enum(EditionStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backend: Mapped[str] = mapped_column(String(20), default="outbox", server_default="outbox")
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # The per-recipient placeholders' nonce in html and text; "" the fixed ones (before 0011).
    placeholder_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    approved_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # The edition's page in the public archive (``archive = true``); "" when not published.
    archive_slug: Mapped[str] = mapped_column(String(100), default="", server_default="")
    items: Mapped[list[EditionItem]] = relationship(
        cascade="all, delete-orphan", order_by="EditionItem.position", lazy="selectin"
    )


class EditionItem(Base):
    __tablename__ = "edition_items"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Delivery(Base):
    """The ledger: one row per edition and subscriber, recorded before sending."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        Index("ix_deliveries_edition_batch", "edition_id", "batch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    email: Mapped[str] = mapped_column(String(320))
    batch: Mapped[int] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    message_id: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppSecret(Base):
    """Secrets Digest generates for itself when the environment gives none."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class BatchStatus(enum.StrEnum):
    pending = "pending"  # recorded, not yet handed to the provider
    sending = "sending"  # claimed by a worker, request under way
    sent = "sent"  # the provider accepted it
    failed = "failed"  # the provider refused it for good


class Batch(Base):
    """A group of at most 1000 deliveries handed to the provider in one request.

    A worker claims a pending batch (pending → sending) before the request and marks
    it sent only after the provider accepted it. A batch found ``sending`` whose worker
    is gone may or may not have been accepted: it is flagged ``in_doubt`` and resolved
    by the configured policy.
    """

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("edition_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), index=True)
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    doubt_resolution: Mapped[str] = mapped_column(String(20), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(300), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The backends that accepted its recipients, comma-separated in the order they did
    # (two when a resume with another backend finished a batch); "" while none has.
    backend: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The render its readers get: a personalised edition's variant; None is the edition's own.
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("edition_variants.id", ondelete="CASCADE")
    )
    # When the batch may be claimed: a local-time edition's wave; None is at once.
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EditionVariant(Base):
    """One render of a personalised edition: the items in one set of followed tags,
    shared by every reader who follows that set (among the edition's tags)."""

    __tablename__ = "edition_variants"
    __table_args__ = (UniqueConstraint("edition_id", "topics"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    topics: Mapped[str] = mapped_column(String(2000))  # the tags, sorted, comma-separated
    article_ids: Mapped[str] = mapped_column(Text)  # the items, in order, comma-separated
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    placeholder_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")


class SegmentLock(Base):
    """One row per segment, locked while an edition of it is being recorded."""

    __tablename__ = "segment_locks"

    segment: Mapped[str] = mapped_column(String(100), primary_key=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The newest scheduled slot a run handled, as its wall-clock time in the segment's
    # zone ("YYYY-MM-DDTHH:MM"); "" when none has been.
    last_slot: Mapped[str] = mapped_column(String(20), default="", server_default="")


class ArticleSignature(Base):
    """What story clustering compares, kept so that stored articles are not re-hashed."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)  # signatures.VERSION when computed
    salient: Mapped[bytes] = mapped_column(LargeBinary)  # sorted uint32 hashes of names, numbers
    bands: Mapped[bytes] = mapped_column(LargeBinary)  # uint64 LSH band keys of the salient set
    sketch: Mapped[bytes] = mapped_column(LargeBinary)  # bottom-k MinHash of word triples


class EditorAction(enum.StrEnum):
    pin = "pin"  # lead the segment's next edition
    exclude = "exclude"  # leave it out of the segment's next edition


class EditorChoice(Base):
    """An editor's pin or exclusion of an article for a segment's next edition; consumed
    when the edition that used it is recorded."""

    __tablename__ = "editor_choices"

    segment: Mapped[str] = mapped_column(String(100), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[EditorAction] = mapped_column(_enum(EditorAction))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArticleEngagement(Base):
    """Opens and clicks of one article in one edition (see :mod:`digest.store.engagement`)."""

    __tablename__ = "article_engagement"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Editor(Base):
    """Someone who may sign in to the desk (`digest editors add`)."""

    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Log out ends every session of the editor opened before it, a copied cookie's too.
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EditorLog(Base):
    """Every change an editor makes (pin, exclude, move, edit, note, subject, test send,
    approve, skip): who, when, what, for which segment's next edition or which edition."""

    __tablename__ = "editor_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment: Mapped[str] = mapped_column(String(100), index=True)
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("editions.id", ondelete="SET NULL"), index=True
    )
    editor: Mapped[str] = mapped_column(String(320))  # the address, kept if the editor goes
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class EditorEdit(Base):
    """An editor's version of an item's headline and summary in a segment's next edition;
    a re-compose keeps it, and the edition that carries it uses it up."""

    __tablename__ = "editor_edits"

    segment: Mapped[str] = mapped_column(String(100), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(Text, default="")  # "" keeps the article's own
    summary: Mapped[str] = mapped_column(Text, default="")  # "" keeps the composed one
    edited_by: Mapped[str] = mapped_column(String(320), default="")
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NextEdition(Base):
    """What editors set for a segment's next edition as a whole: a note at the top
    (Markdown), a subject line, and the order of its items."""

    __tablename__ = "next_editions"

    segment: Mapped[str] = mapped_column(String(100), primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")  # "" keeps the segment's own
    order: Mapped[str] = mapped_column(Text, default="")  # article ids, comma-separated
    updated_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HoldStatus(enum.StrEnum):
    waiting = "waiting"  # composed at its scheduled time, held for an editor
    approved = "approved"  # an editor approved it: recorded and sent as every edition is
    skipped = "skipped"  # an editor skipped it, or its deadline passed with on_deadline skip
    sent = "sent"  # its deadline passed with on_deadline send


class HeldEdition(Base):
    """A scheduled edition of a segment with ``approval = "required"``, waiting for (or
    decided by) an editor; one per (segment, slot)."""

    __tablename__ = "held_editions"
    __table_args__ = (UniqueConstraint("segment", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment: Mapped[str] = mapped_column(String(100), index=True)
    slot: Mapped[str] = mapped_column(String(100))
    status: Mapped[HoldStatus] = mapped_column(_enum(HoldStatus))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the scheduled time
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(320), default="")  # "" the deadline rule
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id", ondelete="SET NULL"))


class StoreChange(Base):
    """How many times a kind of data changed, counted by the database's triggers (see
    :mod:`digest.store.changes`)."""

    __tablename__ = "store_changes"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
