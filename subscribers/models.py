"""Tables of the audience: subscribers, list memberships and suppressions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.db import Base, UTCDateTime


class Status(enum.StrEnum):
    pending = "pending"
    active = "active"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


SUPPRESSED = frozenset({Status.unsubscribed, Status.bounced, Status.complained})


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.active
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(35), default="")
    followed_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Last save of the preferences page: the subscribers file no longer overrides the choice.
    preferences_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Last sign-up through the form that asked for a confirmation link; None for rows from
    # imports. A pending row with it and no confirmed_at is purged once it is old enough.
    confirm_requested_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    lists: Mapped[list[Membership]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def list_names(self) -> set[str]:
        return {m.list_name for m in self.lists}


class Membership(Base):
    __tablename__ = "subscriber_lists"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    list_name: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    subscriber: Mapped[Subscriber] = relationship(back_populates="lists")


class Suppression(Base):
    """An address that must never be mailed, kept as a SHA-256 so erasure keeps it out."""

    __tablename__ = "suppressions"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEvent(Base):
    """A provider event already applied, kept a few days so that a retried post is ignored."""

    __tablename__ = "webhook_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
