"""Render a draft as the config asks: the sender's identity, the time zone, the templates,
and the size under which Gmail does not clip it."""

from __future__ import annotations

from digest.compose.edition import Draft
from digest.config import Config
from digest.deliver.clip import ClipMeasure
from digest.deliver.links import Links
from digest.render.email import Identity, Rendered, render
from digest.run.archive import signup_url
from subscribers.tokens import TokenSigner

# The longest reader a render is measured for: a name at the 100 characters the email
# greets with, each two bytes of UTF-8 (six in quoted-printable, as "&amp;" is five), and
# a subscriber id of twelve digits in the token of the links.
LONGEST_NAME = "é" * 100
LARGEST_ID = 999_999_999_999


def render_draft(
    config: Config, draft: Draft, topics: tuple[str, ...] = (), archive_url: str = ""
) -> Rendered:
    """``draft`` rendered once (for the readers of ``topics``, in a personalised edition),
    with a "View in browser" link to ``archive_url`` when the edition has a page; less its
    last items when it would not fit under ``[digest] max_html_bytes`` as sent."""
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
    fits = clip_measure(config, draft.segment.name)
    return render(draft, identity, templates, topics, archive_url, fits)


def clip_measure(config: Config, segment: str) -> ClipMeasure:
    """The measure of the segment's renders: the longest reader's values, the configured
    room for click tracking, under ``[digest] max_html_bytes``."""
    links = Links(config.sender, TokenSigner("measure only: the key does not change lengths"))
    token = links.tokens.token(LARGEST_ID, segment)
    longest = links.reader(0, "", LONGEST_NAME, token)
    general = config.general
    return ClipMeasure(general.max_html_bytes, longest.values(), general.link_tracking_bytes)
