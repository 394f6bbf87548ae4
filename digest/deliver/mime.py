"""The line limits of every message Digest writes or sends.

RFC 2045 caps an encoded body line at 76 characters and RFC 5322 asks header lines to
stay within 78; :data:`POLICY` folds both at 76. The email package folds a word too long
for a line into RFC 2047 encoded words, which is right for a Subject but wrong for the
headers that carry URIs and ids (``List-Unsubscribe``, ``List-Id``): mail clients read
those literally, so an encoded URI is no link. :class:`ListHeader` folds them only
between their ``<...>`` items and never encodes them; an item longer than a line keeps a
line of its own (RFC 5322 allows 998 characters).

The headers a list's message carries once (``List-Unsubscribe-Post``, ``Feedback-ID``,
``Auto-Submitted``, ``X-Auto-Response-Suppress``, see :mod:`digest.deliver.headers`) are
:class:`SingleHeader`: setting one twice raises, as for ``List-Unsubscribe``.
"""

from __future__ import annotations

import re
import sys
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.policy import Policy

LINE_LENGTH = 76
_ITEM_END = re.compile(r"(?<=>)\s*,\s*")


class ListHeader(UnstructuredHeader, BaseHeader):
    """A header of comma-separated ``<...>`` items, at most one per message."""

    max_count = 1

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        if not value.isascii():  # only a phrase can be non-ASCII: it is encoded as usual
            return super().fold(policy=policy)
        limit = policy.max_line_length or sys.maxsize
        items = _ITEM_END.split(value)
        lines = [f"{self.name}: {items[0]}"]
        for item in items[1:]:
            lines[-1] += ","
            if len(lines[-1]) + 1 + len(item) <= limit:
                lines[-1] += " " + item
            else:
                lines.append(" " + item)
        return policy.linesep.join(lines) + policy.linesep


class SingleHeader(UnstructuredHeader, BaseHeader):
    """An unstructured header that a message carries at most once."""

    max_count = 1


ONCE = ("List-Unsubscribe-Post", "Feedback-ID", "Auto-Submitted", "X-Auto-Response-Suppress")


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()  # a registry of its own: policy.default's stays as it is
    for name in ("List-Unsubscribe", "List-Id"):
        registry.map_to_type(name, ListHeader)
    for name in ONCE:
        registry.map_to_type(name, SingleHeader)
    return registry


POLICY = policy.default.clone(max_line_length=LINE_LENGTH, header_factory=_registry())
