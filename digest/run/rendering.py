"""Render a draft as the config asks: the sender's identity, the time zone, the templates."""

from __future__ import annotations

from digest.compose.edition import Draft
from digest.config import Config
from digest.render.email import Identity, Rendered, render
from digest.run.archive import signup_url


def render_draft(
    config: Config, draft: Draft, topics: tuple[str, ...] = (), archive_url: str = ""
) -> Rendered:
    """``draft`` rendered once (for the readers of ``topics``, in a personalised edition),
    with a "View in browser" link to ``archive_url`` when the edition has a page."""
    identity = Identity(
        config.sender.name,
        config.sender.postal_address,
        config.zone,
        reply_to=config.sender.reply_to,
        signup_url=signup_url(config),
        design=config.design,
    )
    general = config.general
    templates = config.resolve(general.templates_dir) if general.templates_dir else None
    return render(draft, identity, templates, topics, archive_url)
