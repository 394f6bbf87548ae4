"""Double opt-in: a sign-up makes a pending subscriber; a signed, expiring link activates it.

The confirmation token is itsdangerous' URLSafeTimedSerializer over ``[id, address
hash prefix]``: it expires after ``max_age`` seconds, and it stops working if the row is
later given to another address. A sign-up answers the same way whether or not the
address is known; :func:`sign_up` only says whether a confirmation should be mailed:
yes for a new or still pending address, no for an active or suppressed one (an
address that left is never mailed again, not even to ask).

A still-pending address keeps the data of its first sign-up until it is confirmed: a
repeat (by its owner, or by someone else typing it in) changes nothing that the
confirmation shows or that confirming would start; it may only have the link mailed
again. Sign-ups from the form never confirmed are deleted by :func:`purge_unconfirmed`
once their last request is old enough; rows imported as pending are never deleted.

A paused subscriber is ``pending`` with ``confirmed_at`` set (one who never confirmed
has none): the audience and the send ledger skip every status but ``active``, so a
pause stops every segment, and resuming needs no new confirmation.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from subscribers.errors import BadTokenError
from subscribers.importer import email_hash
from subscribers.models import SUPPRESSED, Membership, Status, Subscriber
from subscribers.suppression import is_suppressed


class ExpiredTokenError(BadTokenError):
    """A confirmation link older than its maximum age."""


@dataclass(frozen=True)
class ConsentClaim:
    subscriber_id: int
    address: str  # the first 16 hex digits of the address's hash


def _clocked(clock: Callable[[], float]) -> type[TimestampSigner]:
    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockedSigner


class ConsentTokens:
    """Makes and checks the signed, expiring tokens of confirmation links."""

    def __init__(self, secret: str, max_age: float, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt="digest.confirm", signer=_clocked(clock)
        )
        self.max_age = max_age

    def token(self, subscriber_id: int, address: str) -> str:
        return self._serializer.dumps([subscriber_id, email_hash(address)[:16]])

    def read(self, token: str) -> ConsentClaim:
        try:
            value = self._serializer.loads(token, max_age=round(self.max_age))
        except SignatureExpired:
            raise ExpiredTokenError("confirmation link expired; sign up again") from None
        except BadSignature:
            raise BadTokenError("invalid or altered confirmation link") from None
        match value:
            case [int(subscriber_id), str(address)]:
                return ConsentClaim(subscriber_id, address)
        raise BadTokenError("invalid confirmation link")


@dataclass(frozen=True)
class SignUp:
    email: str  # already validated and normalised
    name: str = ""
    lists: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignUpResult:
    subscriber_id: int | None
    mail: bool  # send a confirmation now
    lists: tuple[str, ...] = ()  # the lists recorded (the first sign-up's), for the mail


def sign_up(session: Session, request: SignUp, now: datetime) -> SignUpResult:
    """Record a sign-up; a pending address keeps its first request's data, and an active or
    suppressed one is left exactly as it was."""
    if is_suppressed(session, request.email):
        return SignUpResult(None, mail=False)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == request.email))
    if subscriber is None:
        subscriber = Subscriber(
            email=request.email,
            name=request.name,
            status=Status.pending,
            followed_tags=list(request.tags),
            attributes={},
            signed_up_at=now,
            confirmed_at=None,
            confirm_requested_at=now,
            lists=[Membership(list_name=name) for name in request.lists],
        )
        try:
            with session.begin_nested():
                session.add(subscriber)
        except IntegrityError:  # the same address signed up at the same moment
            return SignUpResult(None, mail=False)
        return SignUpResult(subscriber.id, mail=True, lists=request.lists)
    if subscriber.status != Status.pending:
        return SignUpResult(subscriber.id, mail=False)
    if subscriber.confirm_requested_at is not None:  # a new link: not purged before it expires
        subscriber.confirm_requested_at = max(subscriber.confirm_requested_at, now)
        session.flush()
    lists = tuple(m.list_name for m in subscriber.lists)
    return SignUpResult(subscriber.id, mail=True, lists=lists)


def purge_unconfirmed(session: Session, requested_before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` sign-ups from the form that were never confirmed and whose last
    request came before ``requested_before``; the number deleted.

    A paused reader (pending, with ``confirmed_at``) and a row imported as pending (no
    ``confirm_requested_at``) are never touched. A row something else still refers to is
    kept. The conditions are checked again by the DELETE itself, so a confirmation that
    commits meanwhile wins.
    """
    unconfirmed = (
        Subscriber.status == Status.pending,
        Subscriber.confirmed_at.is_(None),
        Subscriber.confirm_requested_at < requested_before,
    )
    ids = list(session.scalars(select(Subscriber.id).where(*unconfirmed).limit(limit)))
    deleted = 0
    for subscriber_id in ids:
        try:
            with session.begin_nested():  # memberships go with it (ON DELETE CASCADE)
                result = session.execute(
                    delete(Subscriber)
                    .where(Subscriber.id == subscriber_id, *unconfirmed)
                    .execution_options(synchronize_session=False)
                )
                gone = cast(CursorResult[Any], result).rowcount
        except IntegrityError:
            continue
        deleted += gone
    return deleted


class Confirmation(enum.StrEnum):
    ready = "ready"  # pending: confirming will activate
    confirmed = "confirmed"  # just activated
    already = "already"  # was active
    refused = "refused"  # unsubscribed, bounced, complained or suppressed: stays so
    unknown = "unknown"  # no such subscriber any more (erased, or another address)


def _subscriber(session: Session, claim: ConsentClaim) -> Subscriber | None:
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or email_hash(subscriber.email)[:16] != claim.address:
        return None
    return subscriber


def confirm(session: Session, claim: ConsentClaim, now: datetime, *, apply: bool) -> Confirmation:
    """What confirming would do (``apply=False``) or did (``apply=True``)."""
    subscriber = _subscriber(session, claim)
    if subscriber is None:
        return Confirmation.unknown
    if subscriber.status in SUPPRESSED or is_suppressed(session, subscriber.email):
        return Confirmation.refused
    if subscriber.status == Status.active:
        return Confirmation.already
    if not apply:
        return Confirmation.ready
    resume(subscriber)
    subscriber.confirmed_at = subscriber.confirmed_at or now
    session.flush()
    return Confirmation.confirmed


def is_paused(subscriber: Subscriber) -> bool:
    return subscriber.status == Status.pending and subscriber.confirmed_at is not None


def pause(subscriber: Subscriber, now: datetime) -> None:
    """Stop every send to an active subscriber until :func:`resume`."""
    if subscriber.status == Status.active:
        subscriber.status = Status.pending
        subscriber.confirmed_at = subscriber.confirmed_at or now


def resume(subscriber: Subscriber) -> None:
    """Make a paused (or pending) subscriber active; a suppressed one stays suppressed."""
    if subscriber.status == Status.pending:
        subscriber.status = Status.active
