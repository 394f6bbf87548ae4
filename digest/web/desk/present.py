"""Small pieces of presentation for the desk: reader groups in URLs, times in the
configured zone, links of a framed email opening in a new tab, an edition's web version."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from digest.config import Config
from digest.deliver.message import Recipient, personalise
from digest.render.email import Rendered
from digest.render.placeholders import Placeholders
from digest.store.database import Store
from digest.store.models import Edition

HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def group_of(param: str) -> tuple[str, ...] | None:
    """The reader group a URL names (``topics=a,b``); None, the readers of the whole edition."""
    topics = tuple(sorted({t.strip() for t in param.split(",") if t.strip()}))
    return topics or None


def group_param(topics: tuple[str, ...] | None) -> str:
    return ",".join(sorted(topics)) if topics else ""


def when(moment: datetime | None, zone: tzinfo) -> str:
    """A time as editors read it, in the configured zone: "Mon 2 Nov 2026, 08:00 EET"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}".strip()


def in_new_tab(html: str) -> str:
    """An email's HTML whose links open in a new tab (a frame may not navigate away)."""
    base = '<base target="_blank">'
    found = HEAD.search(html)
    if found is None:
        return base + html
    return html[: found.end()] + base + html[found.end() :]


def edition_html(store: Store, config: Config, edition_id: int) -> str | None:
    """A recorded edition's HTML with a sample reader's values, or None when unknown."""
    with store.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is None:
            return None
        html, nonce = edition.html, edition.placeholder_nonce
    base = config.sender.base_url.rstrip("/")
    sample = Recipient(0, "", "", f"{base}/unsubscribe", f"{base}/preferences", "")
    return personalise(Rendered("", "", html, "", (), Placeholders(nonce)), sample, "html")
