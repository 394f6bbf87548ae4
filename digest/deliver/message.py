"""One recipient's message: substitute their values into the edition's single render."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import NamedTuple

from digest.deliver.headers import list_headers
from digest.deliver.mime import POLICY
from digest.render.email import Rendered, one_line
from digest.render.placeholders import Part
from subscribers.importer.addresses import ascii_address

ONE_CLICK = "List-Unsubscribe=One-Click"
# RFC 6532 (headers in UTF-8), only for a message whose address has a non-ASCII local part:
# no encoding can carry one in an ASCII message, and it travels only over SMTPUTF8.
UTF8_POLICY = POLICY.clone(utf8=True)


class Recipient(NamedTuple):
    """One reader of a batch (a tuple: a send makes one per reader)."""

    delivery_id: int
    email: str
    name: str
    unsubscribe_url: str
    preferences_url: str
    unsubscribe_mailto: str

    @property
    def list_unsubscribe(self) -> str:
        """RFC 8058: one HTTPS URI first, then a mailto."""
        return f"<{self.unsubscribe_url}>, <{self.unsubscribe_mailto}>"

    @property
    def shown_name(self) -> str:
        """The name as a template writes it: one line of at most 100 characters, or
        "there" (templates of earlier versions greet "Hello %%name%%")."""
        return one_line(self.name, 100) or "there"

    @property
    def greeting(self) -> str:
        """The email's greeting: "Hi" and the first name, or "" (no "Hello reader")."""
        first = one_line(self.name, 100).split(" ")[0].rstrip(",")
        return f"Hi {first}," if first else ""

    def values(self) -> dict[str, str]:
        """Placeholder key → value, unescaped (see :mod:`digest.render.placeholders`)."""
        return {
            "name": self.shown_name,
            "greeting": self.greeting,
            "unsubscribe_url": self.unsubscribe_url,
            "preferences_url": self.preferences_url,
        }


@dataclass(frozen=True)
class Outgoing:
    """What a backend needs besides the recipients: the render and who it is from."""

    edition_id: int
    segment: str
    rendered: Rendered
    from_name: str
    from_email: str
    reply_to: str
    list_id: str  # the whole List-Id header: see digest.deliver.headers.list_id

    def headers(self) -> dict[str, str]:
        """List-Id, Feedback-ID and the automatic-reply headers: every reader's the same."""
        return list_headers(self.edition_id, self.segment, self.from_name, self.list_id)


def personalise(rendered: Rendered, recipient: Recipient, part: Part) -> str:
    """The text or HTML part of ``rendered`` with the recipient's values in place."""
    body = rendered.html if part == "html" else rendered.text
    return rendered.placeholders.fill(body, part, recipient.values())


def message_id(outgoing: Outgoing, recipient: Recipient) -> str:
    domain = outgoing.from_email.rpartition("@")[2] or "localhost"
    return f"<digest.{outgoing.edition_id}.{recipient.delivery_id}@{domain}>"


def mailbox(name: str, address: str) -> Address:
    """A header's mailbox, in ASCII wherever it can be (an internationalised domain as its
    A-labels); only a non-ASCII local part stays in UTF-8."""
    plain = address if address.isascii() else ascii_address(address) or address
    if plain.isascii():
        return Address(one_line(name, 100), addr_spec=plain)
    local, at, domain = plain.rpartition("@")
    if not (local and at and domain):
        raise ValueError(f"{address!r} is not an email address")
    return Address(one_line(name, 100), username=local, domain=domain)


def build_message(outgoing: Outgoing, recipient: Recipient, *, date: str) -> EmailMessage:
    """An RFC 5322 multipart/alternative message for one recipient; an RFC 6532 one (for
    SMTPUTF8) when an address can only be written in UTF-8. Raises ValueError (or another
    exception) when the message cannot be built: the caller fails that recipient alone."""
    sender = mailbox(outgoing.from_name, outgoing.from_email)
    to = mailbox(recipient.name, recipient.email)
    international = not (sender.addr_spec + to.addr_spec).isascii()
    message = EmailMessage(policy=UTF8_POLICY if international else POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = outgoing.rendered.subject
    message["Date"] = date
    message["Message-ID"] = message_id(outgoing, recipient)
    if outgoing.reply_to:
        message["Reply-To"] = outgoing.reply_to
    for name, value in outgoing.headers().items():
        message[name] = value
    message["List-Unsubscribe"] = recipient.list_unsubscribe
    message["List-Unsubscribe-Post"] = ONE_CLICK
    rendered = outgoing.rendered
    message.set_content(personalise(rendered, recipient, "text"), cte="quoted-printable")
    message.add_alternative(
        personalise(rendered, recipient, "html"), subtype="html", cte="quoted-printable"
    )
    return message


__all__ = ["Outgoing", "Recipient", "build_message", "format_datetime", "personalise"]
