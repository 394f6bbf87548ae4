"""What every message Digest writes or sends must be, checked in plain Python.

RFC 5322: header lines within 78 characters where they can be folded; RFC 2045: encoded
body lines within 76. The one exception is a header line holding a single ``<URI>``
longer than a line (RFC 5322 allows 998): a URI must not be folded into an RFC 2047
encoded word, which mail clients would not read as a link. Every header parses back
without defects, and ``List-Unsubscribe`` is one header with an HTTPS URI and a mailto.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

HEADER_LINE = 78
ENCODED_LINE = 76
LONGEST_LINE = 998
# A header line (or continuation) that holds nothing but one URI in angle brackets.
LONE_URI = re.compile(r"(?:[A-Za-z-]+: ?| )<[^<>\s]+>,?")
ONCE = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Unsubscribe")


def check_message(raw: bytes) -> EmailMessage:
    """Fail with the offending line unless ``raw`` is a well-formed Digest message."""
    assert raw.isascii(), "the message is not 7-bit"
    text = raw.decode("ascii")
    head, _, _ = text.replace("\r\n", "\n").partition("\n\n")
    for line in head.split("\n"):
        if len(line) > HEADER_LINE:
            assert LONE_URI.fullmatch(line), f"header line of {len(line)} characters: {line!r}"
            assert len(line) <= LONGEST_LINE, f"header line over 998 characters: {line[:80]!r}"
    for line in text.splitlines():
        assert len(line) <= HEADER_LINE or LONE_URI.fullmatch(line), (
            f"line of {len(line)} characters: {line[:100]!r}"
        )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for name in ONCE:
        assert len(message.get_all(name, [])) == 1, f"{name} is not there exactly once"
    for part in message.walk():
        assert not part.defects, f"{part.get_content_type()}: {part.defects}"
        for name, value in part.items():
            assert not getattr(value, "defects", ()), f"{name}: {value.defects}"
        if part.is_multipart():
            continue
        encoding = part.get("Content-Transfer-Encoding", "7bit").lower()
        payload = part.get_payload(decode=False)
        assert isinstance(payload, str)
        limit = ENCODED_LINE if encoding in ("quoted-printable", "base64") else HEADER_LINE
        for line in payload.splitlines():
            assert len(line) <= limit, f"{encoding} line of {len(line)}: {line!r}"
        part.get_content()  # decodes
    assert str(message["To"].addresses[0].addr_spec), "no To address"
    check_list_unsubscribe(message)
    return message


def check_list_unsubscribe(message: EmailMessage) -> tuple[str, str]:
    """The HTTPS URI and the mailto of the one List-Unsubscribe header (RFC 2369, 8058)."""
    (value,) = message.get_all("List-Unsubscribe", [])
    raw = "".join(str(value).splitlines())
    assert "=?" not in raw, f"List-Unsubscribe is an encoded word: {raw!r}"
    assert re.fullmatch(r"<[^<>\s]+>, <[^<>\s]+>", raw), raw
    https, mailto = re.findall(r"<([^<>]+)>", raw)
    assert https.startswith("https://") and mailto.startswith("mailto:"), raw
    assert message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    return https, mailto
