"""The headers every message of a list carries besides From, To, Subject and the
per-reader List-Unsubscribe: the same values through the outbox, SMTP and SendGrid.

- ``List-Id`` (RFC 2919): the list's name as a quoted phrase, then ``<segment.domain>``.
- ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress: OOF,
  AutoReply`` (Exchange and Outlook): out-of-office and other automatic replies are not
  sent back to the editors. Delivery reports are not suppressed: bounces must come back.
- ``Feedback-ID`` (Gmail's feedback loop): ``edition:segment:sender:digest``, so that
  Gmail's Postmaster Tools report complaints per edition, segment and sender.

None of these is one that SendGrid reserves (``x-sg-id``, ``x-sg-eid``, ``received``,
``dkim-signature``, ``Content-Type``, ``Content-Transfer-Encoding``, ``To``, ``From``,
``Subject``, ``Reply-To``, ``CC``, ``BCC``). Values are ASCII: a non-ASCII list name is
written as RFC 2047 encoded words here, so that every backend sends the same text.
"""

from __future__ import annotations

import re
from email.header import Header

from digest.render.email import one_line

AUTO_REPLIES = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "OOF, AutoReply",
}
SENDER_ID = "digest"  # the last field of Feedback-ID: who sends, the same in every message
_NOT_ID = re.compile(r"[^a-z0-9.-]+")
FIELD_LENGTH = 40  # of each Feedback-ID field


def list_id(name: str, segment: str, domain: str) -> str:
    """The List-Id of ``segment`` at ``domain``, named ``name`` (none when it is empty)."""
    return f"{phrase(name)} <{segment}.{domain}>".lstrip()


def phrase(name: str) -> str:
    """``name`` as an RFC 5322 quoted phrase, or RFC 2047 encoded words when not ASCII."""
    flat = one_line(name, 100)
    if not flat.isascii():
        encoded = Header(flat, "utf-8", maxlinelen=76).encode()
        return " ".join(encoded.split())  # adjacent encoded words; the header folds itself
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"' if flat else ""


def feedback_id(edition_id: int, segment: str, from_name: str) -> str:
    """Gmail's ``a:b:c:SenderId``: the edition, the segment, the From name, Digest."""
    fields = (str(edition_id), _field(segment), _field(from_name), SENDER_ID)
    return ":".join(fields)


def _field(value: str) -> str:
    """A Feedback-ID field: lower-case letters, digits, dots and hyphens."""
    return _NOT_ID.sub("-", value.lower()).strip("-")[:FIELD_LENGTH].strip("-") or "none"


def list_headers(edition_id: int, segment: str, from_name: str, list_id: str) -> dict[str, str]:
    """The headers of a list's message that are the same for every reader, in order."""
    return {
        "List-Id": list_id,
        "Feedback-ID": feedback_id(edition_id, segment, from_name),
        **AUTO_REPLIES,
    }
