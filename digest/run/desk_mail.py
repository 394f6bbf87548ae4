"""Mail from the desk that is not an edition: test sends of the next edition and the notice
that tells editors an edition waits for approval.

These go through the configured backend as every message does, but are never recorded in
the ledger nor counted in any edition's figures. Their links are real but signed for no
subscriber (id 0): the unsubscribe and preferences pages they lead to say the address is
not on any list and change nothing. The outbox backend writes them beside the editions,
in a folder of their own: ``<outbox>/tests/<segment>/`` and ``<outbox>/notices/<segment>/``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from digest.compose.edition import Draft
from digest.config import Config
from digest.deliver.backends import make_backend
from digest.deliver.links import Links, signer
from digest.deliver.message import Outgoing
from digest.deliver.outbox import edition_folder
from digest.deliver.protocol import BatchOutcome
from digest.render.email import Rendered, one_line, title_of
from digest.render.placeholders import Placeholders
from digest.run.delivery import delivery_settings
from digest.store.database import Store

TESTS = "tests"  # the outbox folder and SendGrid category of test sends
NOTICES = "notices"  # of the notices to editors
NO_SUBSCRIBER = 0  # the subscriber id the links of desk mail are signed for


def desk_url(config: Config, segment: str) -> str:
    """The desk's page of the segment's next edition."""
    return f"{config.sender.base_url.rstrip('/')}/desk/segments/{quote(segment, safe='')}/"


def outbox_folder(config: Config, stream: str, segment: str) -> Path:
    """Where the outbox backend writes the stream's messages about ``segment``."""
    return edition_folder(config.outbox_dir / stream, segment, 0)


def send_desk_mail(
    store: Store,
    config: Config,
    stream: str,
    segment: str,
    rendered: Rendered,
    addresses: Sequence[str],
    backend: str = "",
) -> tuple[str, BatchOutcome]:
    """Send ``rendered`` to each address through ``backend`` ("" the configured one),
    outside the ledger; the backend's name and what it did with each address (in order:
    delivery ids are 1, 2, ...)."""
    settings = delivery_settings(config, backend)
    settings = replace(settings, outbox_dir=settings.outbox_dir / stream)
    sender = config.sender
    domain = sender.email.rpartition("@")[2]
    outgoing = Outgoing(
        edition_id=0,
        segment=segment,
        rendered=rendered,
        from_name=settings.identity(segment).from_name,
        from_email=sender.email,
        reply_to=sender.reply_to,
        list_id=f"<{stream}.{domain}>",
    )
    links = Links(sender, signer(store))
    token = links.tokens.token(NO_SUBSCRIBER, segment)
    first = time.time_ns() // 1000  # unique per message: a file name, a Message-ID
    recipients = [
        links.reader(first + n, address, "", token) for n, address in enumerate(addresses)
    ]
    sending = make_backend(settings)
    try:
        return sending.name, sending.send_batch(outgoing, recipients, 0)
    finally:
        sending.close()


def approval_notice(config: Config, draft: Draft, deadline: str) -> Rendered:
    """The plain message that tells editors the segment's edition waits for them;
    ``deadline`` says what happens if nobody acts."""
    title = title_of(draft)
    url = desk_url(config, draft.segment.name)
    count = len(draft.items)
    lines = [
        f"The next edition of {title} ({draft.segment.name}) is composed and waits for an "
        "editor's approval before it goes out.",
        f"It has {count} {'item' if count == 1 else 'items'}; its first is "
        f"{draft.items[0].title!r}."
        if draft.items
        else "It has no items.",
        deadline,
        "See it as readers will, send yourself a test, and approve or skip it at the desk:",
    ]
    command = f"From a terminal: digest approve --segment {draft.segment.name}"
    text = "\n\n".join([*lines, url, command]) + "\n"
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    link = html.escape(url, quote=True)
    body = (
        f"<!doctype html><html><body>{paragraphs}"
        f'<p><a href="{link}">{html.escape(url)}</a></p><p>{html.escape(command)}</p>'
        "</body></html>"
    )
    subject = one_line(f"Waiting for approval: {title}")
    return Rendered(subject, "", body, text, (), Placeholders.fresh())
