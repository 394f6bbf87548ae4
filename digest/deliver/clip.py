"""Gmail's clip: Gmail shows "[Message clipped]" and hides the rest of an email whose HTML
is over 102 KB, the footer with the unsubscribe link and the postal address included.

The size that counts is the HTML as the reader's mailbox receives it, not as rendered:

- encoded: the quoted-printable of the MIME part (:func:`encoded_size`), where every ``=``
  of an attribute is three bytes, every non-ASCII byte three, and each line of 76 ends in
  a soft break and CRLF;
- personalised: each placeholder filled in with the longest value a reader can have;
- rewritten: a provider's click tracking replaces every link with a longer one of its own
  and adds an open-tracking image.

:class:`ClipMeasure` measures all three, and says whether a render fits under a limit
set with a margin below 102 KB (``[digest] max_html_bytes``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from digest.deliver.mime import POLICY
from digest.render.email import Rendered
from digest.settings import GMAIL_CLIP_BYTES

__all__ = ["GMAIL_CLIP_BYTES", "ClipMeasure", "encoded_size"]

# What SendGrid's click tracking recognises as a link: a quoted http(s) href of an <a>.
TRACKED_LINK = re.compile(r"""<a\s[^>]*?\bhref=["']https?://""", re.IGNORECASE)
OPEN_PIXEL_BYTES = 400  # the open-tracking <img> a tracking provider adds, encoded


def encoded_size(html: str) -> int:
    """Bytes of ``html`` as the body of a quoted-printable text/html MIME part on the wire
    (lines end in CRLF), made as :func:`digest.deliver.message.build_message` makes it."""
    part = EmailMessage(policy=POLICY)
    part.set_content(html, subtype="html", cte="quoted-printable")
    body = str(part.get_payload())
    return len(body.encode("ascii")) + body.count("\n")  # each LF goes out as CRLF


@dataclass(frozen=True)
class ClipMeasure:
    """The size of a render's HTML as sent, against ``limit`` bytes."""

    limit: int
    values: Mapping[str, str]  # the longest realistic value of each placeholder's key
    link_tracking: int = 0  # bytes each tracked link may grow by; 0: no tracking

    def size(self, rendered: Rendered) -> int:
        html = rendered.placeholders.fill(rendered.html, "html", self.values)
        size = encoded_size(html)
        if self.link_tracking > 0:
            links = len(TRACKED_LINK.findall(html))
            size += links * self.link_tracking + OPEN_PIXEL_BYTES
        return size

    def __call__(self, rendered: Rendered) -> bool:
        """Whether ``rendered`` fits under the limit."""
        return self.size(rendered) <= self.limit
