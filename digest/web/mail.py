"""The confirmation email of a double opt-in, sent through the configured backend.

It is rendered for its one recipient from ``email/confirm.txt.j2`` and
``email/confirm.html.j2`` (the user's templates folder first) and handed to the same
backends as the digests, so the outbox, SMTP and SendGrid all carry it. Each message
gets its own number, so a second confirmation to the same address is a second file in
the outbox rather than a skipped one.

It names no one: whoever typed the address chose the name, so neither the greeting nor
the To header carries it until the address is confirmed (``name`` is always empty).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from digest.deliver.links import Links
from digest.deliver.message import Outgoing, Recipient
from digest.errors import DigestError, RenderError
from digest.render.email import Rendered, one_line
from digest.render.placeholders import Placeholders
from digest.render.templates import environment, select
from digest.web.state import AppState

log = logging.getLogger("digest.web")
STREAM = "confirmations"  # the outbox folder and SendGrid category of these messages


@dataclass(frozen=True)
class Confirmation:
    subscriber_id: int
    email: str
    lists: tuple[str, ...]  # labels of the lists recorded


def render_confirmation(web: AppState, mail: Confirmation) -> Rendered:
    general = web.config.general
    user = web.config.resolve(general.templates_dir) if general.templates_dir else None
    hours = max(1, round(web.config.web.confirm_max_age / 3600))
    token = web.consent.token(mail.subscriber_id, mail.email)
    context = {
        "name": "",  # never the name typed in: it is not confirmed yet
        "lists": list(mail.lists),
        "confirm_url": f"{web.base_url}/confirm/{token}",
        "hours": hours,
        "sender_name": web.config.sender.name,
        "postal_address": web.config.sender.postal_address,
    }
    subject = one_line(f"Confirm your subscription to {web.config.sender.name}")
    reader = Placeholders.fresh()  # for templates that write {{ reader.unsubscribe_url }}
    try:
        text = select(environment(user, html=False), ["email/confirm.txt.j2"]).render(
            context, reader=reader.of("text")
        )
        html = select(environment(user, html=True), ["email/confirm.html.j2"]).render(
            context, reader=reader.of("html")
        )
    except jinja2.TemplateError as e:
        raise RenderError(f"confirmation template error: {e}") from e
    return Rendered(subject, "One click to start receiving the digest.", html, text, (), reader)


def recipient_for(web: AppState, mail: Confirmation) -> Recipient:
    token = web.links.token(mail.subscriber_id, "")  # "" is every list: leave everything
    return Links(web.config.sender, web.links).reader(
        time.time_ns() // 1000,  # unique per message: a file name, a Message-ID
        mail.email,
        "",  # no display name in To either
        token,
    )


def send_confirmation(web: AppState, mail: Confirmation) -> bool:
    """Send one confirmation; a failure is logged in one line (the sign-up stays pending)
    and never raised: this runs after the answer, as a background task."""
    sender = web.config.sender
    domain = sender.email.rpartition("@")[2]
    try:
        outgoing = Outgoing(
            edition_id=0,
            segment=STREAM,
            rendered=render_confirmation(web, mail),
            from_name=sender.name,
            from_email=sender.email,
            reply_to=sender.reply_to,
            list_id=f"<{STREAM}.{domain}>",
        )
        backend = web.make_backend()
        try:
            outcome = backend.send_batch(outgoing, [recipient_for(web, mail)], 0)
        finally:
            backend.close()
    except Exception as e:  # it runs as a background task: nothing may escape it
        why = str(e) if isinstance(e, DigestError) else f"{type(e).__name__}: {e}"
        log.error("confirmation for subscriber %s not sent: %s", mail.subscriber_id, _line(why))
        return False
    if outcome.failed:
        reasons: Sequence[str] = list(outcome.failed.values())
        log.error(
            "confirmation for subscriber %s refused: %s", mail.subscriber_id, _line(reasons[0])
        )
        return False
    return True


def _line(text: str) -> str:
    return " ".join(text.split())
