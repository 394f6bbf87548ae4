"""Render an edition once: Jinja2 makes MJML, mjml-python makes HTML, and a text part beside it.

Per-recipient values are left as placeholders (see :mod:`digest.render.placeholders`),
chosen afresh for each render, for the delivery backend to substitute, so that one render
serves every recipient. Templates write them as ``{{ reader.greeting }}`` ("Hi Ana," or
nothing), ``{{ reader.name }}``, ``{{ reader.unsubscribe_url }}`` and
``{{ reader.preferences_url }}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from mjml import mjml2html

from digest.colours import normalise, tint_for
from digest.compose.edition import Draft, DraftItem
from digest.errors import RenderError
from digest.render.front import CONTENTS_FROM, edition_label, front_page
from digest.render.inbox import PREHEADER_SPACING, default_subject, preheader_of
from digest.render.note import note_html, note_text
from digest.render.placeholders import Placeholders
from digest.render.templates import environment, select
from digest.settings import DesignSettings, SegmentSettings

DARK_BACKGROUND = "#1b1d21"  # the cards' background in dark mode (the page's is darker)
# The email templates' environments, made once per folder and part: they keep what they
# compiled (and recompile a template whose file changed); nothing else uses them.
email_environment = functools.lru_cache(maxsize=32)(environment)


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str
    text: str
    items: tuple[DraftItem, ...]
    # The placeholders left in ``html`` and ``text``; a render of its own draws new ones.
    placeholders: Placeholders = field(default_factory=Placeholders.fresh)
    # The draft's trailing items left out so that the email stays under Gmail's clip.
    left_out: tuple[DraftItem, ...] = ()


@dataclass(frozen=True)
class Identity:
    sender_name: str
    postal_address: str
    zone: ZoneInfo
    reply_to: str = ""  # "Reply to reach the editors" when there is one
    signup_url: str = ""  # "Forwarded this? Subscribe"; "" leaves the line out
    design: DesignSettings = field(default_factory=DesignSettings)


def one_line(value: str, limit: int = 250) -> str:
    """A header-safe value: no line breaks, no runs of space, at most ``limit`` characters."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render(
    draft: Draft,
    identity: Identity,
    user_templates: Path | None = None,
    topics: tuple[str, ...] = (),
    archive_url: str = "",
    fits: Callable[[Rendered], bool] | None = None,
) -> Rendered:
    """Render ``draft``; when ``fits`` says the email would not fit (Gmail clips a long
    one: see :mod:`digest.deliver.clip`), with as many of its first items as fit, at least
    one, and the rest in ``left_out``.
    ``topics``: the followed tags a personalised variant was picked for, named in the intro.
    ``archive_url``: the edition's page in the public archive, "" when it has none."""
    placeholders = Placeholders.fresh()
    renders: dict[int, Rendered] = {}

    def first(count: int) -> Rendered:
        if count not in renders:
            renders[count] = _render(
                draft,
                draft.items[:count],
                identity,
                user_templates,
                placeholders,
                topics,
                archive_url,
            )
        return renders[count]

    count = len(draft.items)
    if fits is not None and count > 1 and not fits(first(count)):
        low, high = 1, count - 1  # the most items that fit, or 1: more items, more bytes
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(first(middle)) else (low, middle - 1)
        count = low
    return replace(first(count), left_out=draft.items[count:])


def _render(
    draft: Draft,
    items: tuple[DraftItem, ...],
    identity: Identity,
    user_templates: Path | None,
    placeholders: Placeholders,
    topics: tuple[str, ...] = (),
    archive_url: str = "",
) -> Rendered:
    segment = draft.segment
    title = title_of(draft)
    date_label = date_label_of(draft, identity.zone)
    subject = subject_of(draft, items, identity.zone)
    preheader = preheader_of(items)
    edition_day = draft.composed_at.astimezone(identity.zone).date()
    lead, sections = front_page(
        items, dict(segment.sections), edition_day, identity.zone, segment.images
    )
    shown = [i for i in (lead, *(i for s in sections for i in s.items)) if i is not None]
    context: dict[str, Any] = {
        "title": title,
        "subject": subject,
        "preheader": preheader,
        "preheader_spacing": PREHEADER_SPACING,  # after the preheader: keeps the body out
        "date_label": date_label,
        "sender_name": identity.sender_name,
        "postal_address": identity.postal_address,
        "segment": segment.name,
        "items": shown,  # every item in the order shown, numbered
        "lead": lead,
        "sections": sections,
        "contents": shown if len(shown) >= CONTENTS_FROM else [],
        "brand": brand_of(identity),
        "personalised": segment.personalised,
        "topics": list(topics),
        "note_html": Markup(note_html(draft.note)),  # sanitised: see digest.render.note
        "note_text": note_text(draft.note),
        "archive_url": archive_url,  # "View in browser"; "" when the segment has no archive
        "reply_to": identity.reply_to,
        "signup_url": identity.signup_url,
    }
    names = [f"email/digest-{segment.name}", "email/digest"]
    try:
        mjml = select(email_environment(user_templates, html=True), [n + ".mjml.j2" for n in names])
        text = select(email_environment(user_templates, html=False), [n + ".txt.j2" for n in names])
        source = mjml.render(context, reader=placeholders.of("html"))
        text_body = text.render(context, reader=placeholders.of("text"))
    except jinja2.TemplateError as e:
        raise RenderError(f"template error: {e}") from e
    try:
        html = mjml2html(source)
    except ValueError as e:
        raise RenderError(f"MJML could not be rendered: {e}") from e
    return Rendered(subject, preheader, html, text_body, items, placeholders)


def title_of(draft: Draft) -> str:
    return title_of_segment(draft.segment)


def title_of_segment(segment: SegmentSettings) -> str:
    """The segment's title, or its name in title case."""
    return segment.title or segment.name.replace("-", " ").title()


def date_label_of(draft: Draft, zone: ZoneInfo) -> str:
    return edition_label(draft.composed_at, zone)


def brand_of(identity: Identity) -> dict[str, Any]:
    """The masthead and colours: the wordmark (or logo) and the brand colour, with the tint
    of it that links get in dark mode."""
    design = identity.design
    colour = normalise(design.brand_color)
    wordmark = one_line(design.wordmark) or identity.sender_name
    logo = None
    if design.logo_url:
        logo = {
            "url": design.logo_url,
            "alt": one_line(design.logo_alt) or wordmark,
            "width": design.logo_width,
            "height": design.logo_height or None,
        }
    return {
        "wordmark": wordmark,
        "logo": logo,
        "color": colour,
        "dark_color": tint_for(colour, DARK_BACKGROUND),
    }


def subject_of(draft: Draft, items: tuple[DraftItem, ...], zone: ZoneInfo) -> str:
    """The subject line of ``items`` of ``draft``: the editor's subject as written (content,
    not a format string), the segment's ``subject`` filled in, or by default the top
    story's headline (see :mod:`digest.render.inbox`)."""
    if not draft.segment.subject:
        return one_line(draft.subject) or default_subject(items)
    return one_line(draft.subject) or one_line(
        draft.segment.subject.format(
            title=title_of(draft),
            top_headline=items[0].title if items else "",
            count=len(items),
            date=date_label_of(draft, zone),
        )
    )
