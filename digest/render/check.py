"""Check a template set before it sends anything: every template parses, and every
segment's edition, rendered with it, carries an unsubscribe link, the postal address and a
text part (``digest templates check``).

Each problem is one line naming the template and what to fix; the rendering is the real
one (:func:`digest.render.email.render`) on a sample edition (:mod:`digest.render.sample`),
full and bare, so a link inside ``{% if %}`` is caught either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jinja2

from digest.errors import RenderError
from digest.render.email import Identity, Rendered, email_environment, render
from digest.render.sample import SAMPLE_ARCHIVE, TOPICS, sample_draft
from digest.render.templates import bundled_templates, environment
from digest.settings import SegmentSettings

HIDDEN = ("display:none", "display: none")
VOID = frozenset(
    {"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(frozen=True)
class Report:
    problems: tuple[str, ...]
    checked: str  # what was checked, for the line printed when there is no problem


class _Body(HTMLParser):
    """The visible text of an HTML body, and where its links go."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []  # open elements whose content is not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and not self._hidden:
            self.links.append(found.get("href") or "")
        style = (found.get("style") or "").lower()
        hidden = tag in ("head", "style", "script", "title") or any(h in style for h in HIDDEN)
        if tag not in VOID and (self._hidden or hidden):
            self._hidden.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._hidden:
            while self._hidden and self._hidden.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def check_templates(
    user_dir: Path | None, identity: Identity, segments: Sequence[SegmentSettings]
) -> Report:
    """Every problem of the set ``user_dir`` (over the bundled one) for ``segments``."""
    if user_dir is not None and not user_dir.is_dir():
        return Report(
            (f"templates_dir: {user_dir} is not a folder; create it or fix the path",), ""
        )
    email_environment.cache_clear()  # a template added since would not be seen
    problems = list(syntax_problems(user_dir))
    if not problems:
        for segment in segments:
            problems += edition_problems(user_dir, identity, segment)
    return Report(tuple(dict.fromkeys(problems)), _checked(user_dir, segments))


def syntax_problems(user_dir: Path | None) -> Iterator[str]:
    """One line per template of the user's folder that Jinja2 cannot parse."""
    if user_dir is None:
        return
    env = environment(user_dir, html=True)
    for path in sorted(p for p in user_dir.rglob("*") if p.is_file()):
        name = path.relative_to(user_dir).as_posix()
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            yield f"{name}: cannot be read ({e}); save it as UTF-8 text"
            continue
        try:
            env.parse(source, name, str(path))
        except jinja2.TemplateSyntaxError as e:
            message = (e.message or "").rstrip(".")
            yield f"{name}:{e.lineno}: template syntax error: {message}; fix that line"


def edition_problems(
    user_dir: Path | None, identity: Identity, segment: SegmentSettings
) -> Iterator[str]:
    html_name, text_name = _chosen(user_dir, segment.name)
    html_label = _label(user_dir, html_name, "mjml.j2")
    if _yours(user_dir, html_name) and not _yours(user_dir, text_name):
        yield (
            f"{html_name}: no text part of yours beside it: add {text_name} to {user_dir} so "
            f'the text part says what the HTML says (it may extend ours: {{% extends "digest:'
            f'{text_name}" %}})'
        )
    for full in (True, False):
        try:
            rendered = render(
                sample_draft(segment, full=full),
                identity,
                user_dir,
                TOPICS if full else (),
                SAMPLE_ARCHIVE.format(segment=segment.name) if full else "",
            )
        except RenderError as e:
            yield f"{_where(e, user_dir) or html_label}: does not render: {_reason(e)}"
            return
        yield from _rendered_problems(rendered, identity, html_label, text_name)


def _rendered_problems(
    rendered: Rendered, identity: Identity, html_label: str, text_name: str
) -> Iterator[str]:
    body = _Body()
    body.feed(rendered.html)
    shown = " ".join(" ".join(body.text).split())
    address = " ".join(identity.postal_address.split())
    unsubscribe = rendered.placeholders.of("html")["unsubscribe_url"]
    if unsubscribe not in body.links:
        yield (
            f"{html_label}: no unsubscribe link: add "
            '<a href="{{ reader.unsubscribe_url }}">Unsubscribe</a> to the footer'
        )
    if address not in shown:
        yield f"{html_label}: no postal address: show {{{{ postal_address }}}} in the footer"
    text = rendered.text
    if not text.strip():
        yield f"{text_name}: the text part is empty: write the edition as plain text there"
        return
    if rendered.placeholders.of("text")["unsubscribe_url"] not in text:
        yield f"{text_name}: no unsubscribe link: add Unsubscribe: {{{{ reader.unsubscribe_url }}}}"
    if address not in " ".join(text.split()):
        yield f"{text_name}: no postal address: add {{{{ postal_address }}}} at the end"


def _where(error: RenderError, user_dir: Path | None) -> str:
    """The template and line a render failed at (Jinja2 puts them in the traceback)."""
    cause = error.__cause__
    tb = cause.__traceback__ if cause is not None else None
    found = ""
    folders = [p for p in (user_dir, bundled_templates()) if p is not None]
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        for folder in folders:
            if path.is_relative_to(folder):
                found = f"{path.relative_to(folder).as_posix()}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _reason(error: RenderError) -> str:
    cause = error.__cause__
    if isinstance(cause, jinja2.UndefinedError):
        return f"{cause.message}; use only the variables docs/templates.md lists"
    return str(cause or error)


def _chosen(user_dir: Path | None, segment: str) -> tuple[str, str]:
    """The HTML and text templates a segment's edition is rendered from."""
    found = []
    for suffix in ("mjml.j2", "txt.j2"):
        names = [f"email/digest-{segment}.{suffix}", f"email/digest.{suffix}"]
        folders = [p for p in (user_dir, bundled_templates()) if p is not None]
        found.append(next((n for f in folders for n in names if (f / n).is_file()), names[-1]))
    return found[0], found[1]


def _yours(user_dir: Path | None, name: str) -> bool:
    return user_dir is not None and (user_dir / name).is_file()


def _label(user_dir: Path | None, name: str, suffix: str) -> str:
    """``name``, with the partials of the user's folder it was rendered with."""
    if user_dir is None:
        return name
    partials = sorted(
        p.relative_to(user_dir).as_posix()
        for p in (user_dir / "email").glob(f"_*.{suffix}")
        if p.is_file()
    )
    return f"{name} (with your {', '.join(partials)})" if partials else name


def _checked(user_dir: Path | None, segments: Sequence[SegmentSettings]) -> str:
    names = ", ".join(s.name for s in segments) or "no segment"
    if user_dir is None:
        where = "the bundled templates (templates_dir is not set)"
    else:
        bundled = bundled_templates()
        mine = sorted(
            p.relative_to(user_dir).as_posix() for p in user_dir.rglob("*") if p.is_file()
        )
        overriding = [n for n in mine if (bundled / n).is_file()]
        added = [n for n in mine if n not in overriding]
        where = f"your templates in {user_dir}"
        if overriding:
            where += f", overriding {', '.join(overriding)}"
        if added:
            where += f", adding {', '.join(added)}"
        if not mine:
            where += " (empty: the bundled templates are used)"
    return (
        f"checked {where}: {len(segments)} segment(s) ({names}), each edition full and bare "
        "has an unsubscribe link, the postal address and a text part"
    )
