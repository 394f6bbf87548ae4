"""The bundled email templates as a newsroom overriding them needs to know them: each
template, the templates it includes, its blocks and the variables it reads, read from the
templates themselves (``digest templates list``; ``docs/templates.md`` is its Markdown)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes

from digest.render.templates import bundled_templates, environment

# What each variable holds; a test fails when a bundled template reads one not listed here.
VARIABLES = {
    "title": "the segment's title (its `title` setting, or its name in title case)",
    "subject": "the subject line",
    "preheader": 'the line inbox lists show after the subject ("Plus: " the next headlines)',
    "preheader_spacing": "invisible spacing after the preheader: no body text in the inbox",
    "date_label": "the edition's date, in the configured time zone",
    "sender_name": "`[sender] name`",
    "postal_address": "`[sender] postal_address`: every footer must show it",
    "segment": "the segment's name",
    "items": "the edition's items, in order: each an `item` as below",
    "topics": "in a personalised edition, the followed tags the variant was made for",
    "note_html": "the editor's note as sanitised HTML (empty for none)",
    "note_text": "the editor's note as plain text (empty for none)",
    "archive_url": 'the edition\'s page in the public archive ("View in browser"); empty for none',
    "reader": "the reader's own values, filled in per recipient at send time (below)",
    "reader.name": "the reader's name (may be empty)",
    "reader.unsubscribe_url": "the one-click unsubscribe link: every edition must carry it",
    "reader.preferences_url": "the reader's preferences page",
    "item": "one item of `items` (in the partial, the including loop's variable)",
    "item.title": "the headline",
    "item.url": "the article's address",
    "item.source": "the outlet's name",
    "item.author": "the author (may be empty)",
    "item.summary": "the summary (plain text)",
    "item.tags": "the article's tags",
    "item.published_label": "when it was published, in the configured time zone",
    "item.also": "other outlets' reports of the story: each with `outlet` and `url`",
    "item.image": "the lead image or none: `url` (https), `alt`, `width`, `height`",
    "item.picture": (
        "the image shown with this item, as the segment's `images` says, or none: `url`, "
        "`alt`, `width`, `height`"
    ),
    "item.anchor": 'the item\'s id in the page, for the "In this edition" links (`story-N`)',
    "item.cta": 'the call to action: "Read at OUTLET" (the arrow is the template\'s)',
    "item.day_label": 'the day it was published: "Tuesday" within the week, else "17 November"',
    "lead": "the lead story (an `item`, shown larger, with its image), or none",
    "sections": (
        "the items after the lead, in sections by tag as the segment's `sections` say: each "
        "with `title` (empty for an edition without sections), `anchor` and `items`"
    ),
    "section": "one of `sections` (in the partial, the including loop's variable)",
    "section.title": "the section's title; empty in an edition without sections",
    "contents": 'the items in the order shown, for "In this edition" (empty below six items)',
    "brand": "the masthead and colours from `[design]`",
    "brand.wordmark": "the wordmark: `[design] wordmark`, or `[sender] name`",
    "brand.logo": "the logo (`url`, `alt`, `width`, `height`) from `[design] logo_url`, or none",
    "brand.color": "`[design] brand_color` (at least 4.5:1 against white)",
    "brand.dark_color": "the brand colour lightened for dark mode",
    "reply_to": '`[sender] reply_to`: "Reply to reach the editors" shows when it is set',
    "signup_url": 'the sign-up page, for "Forwarded this? Subscribe" (empty without a web app)',
    "reader.greeting": 'the greeting: "Hi FIRSTNAME," or nothing for a reader without a name',
    "name": "confirmation: always empty (the name typed in is not confirmed yet)",
    "lists": "confirmation: the lists signed up for",
    "confirm_url": "confirmation: the link that confirms the sign-up",
    "hours": "confirmation: how many hours the link works",
}
PURPOSE = {
    "digest.mjml.j2": "the edition's HTML (MJML, Jinja2); `digest-SEGMENT.mjml.j2` for one segment",
    "digest.txt.j2": "the edition's plain-text part; `digest-SEGMENT.txt.j2` for one segment",
    "confirm.html.j2": "the sign-up confirmation's HTML",
    "confirm.txt.j2": "the sign-up confirmation's plain text",
}


@dataclass(frozen=True)
class TemplateInfo:
    name: str  # e.g. "email/digest.mjml.j2"
    includes: tuple[str, ...]
    blocks: tuple[str, ...]
    variables: tuple[str, ...]  # names and the attributes read of them ("item.title")


def email_templates() -> Iterator[TemplateInfo]:
    """Every bundled email template, in name order."""
    folder = bundled_templates()
    env = environment(None, html=True)
    for path in sorted((folder / "email").glob("*.j2")):
        name = path.relative_to(folder).as_posix()
        yield describe(env, name, path)


def describe(env: jinja2.Environment, name: str, path: Path) -> TemplateInfo:
    source = env.loader.get_source(env, name)[0] if env.loader else path.read_text("utf-8")
    tree = env.parse(source, name)
    free = meta.find_undeclared_variables(tree)
    read = set(free)
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in free:
            read.add(f"{node.node.name}.{node.attr}")
    includes = sorted(str(n) for n in meta.find_referenced_templates(tree) if n)
    blocks = sorted({block.name for block in tree.find_all(nodes.Block)})
    return TemplateInfo(name, tuple(includes), tuple(blocks), tuple(sorted(read)))


def templates_markdown() -> str:
    """docs/templates.md: how to override, then each bundled email template."""
    out = [
        "# Templates",
        "",
        "The email templates Digest ships with, each with the templates it includes, its",
        "blocks and the variables it reads. This page is made by",
        "`digest templates list --markdown` from the templates themselves; a test keeps it",
        "current. How to override them is in the README (Your own templates).",
    ]
    for info in email_templates():
        short = info.name.removeprefix("email/")
        purpose = PURPOSE.get(
            short, "a partial (its name starts with `_`), included by the templates that name it"
        )
        out += ["", f"## `{info.name}`", "", purpose[0].upper() + purpose[1:] + "."]
        if info.includes:
            out += ["", "Includes: " + ", ".join(f"`{n}`" for n in info.includes) + "."]
        if info.blocks:
            out += ["", "Blocks: " + ", ".join(f"`{b}`" for b in info.blocks) + "."]
        out += ["", "| variable | holds |", "|---|---|"]
        out += [f"| `{v}` | {VARIABLES.get(v, '')} |" for v in info.variables]
    return "\n".join(out) + "\n"


def templates_text() -> str:
    lines = []
    for info in email_templates():
        extra = [f"includes {', '.join(info.includes)}"] if info.includes else []
        extra += [f"blocks {', '.join(info.blocks)}"] if info.blocks else []
        lines.append(info.name + (f" ({'; '.join(extra)})" if extra else ""))
        lines.append("  " + " ".join(info.variables))
    return "\n".join(lines) + "\n"
