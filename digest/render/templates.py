"""Find templates: the user's folder first, then the bundled ones; segment-specific first.

A template of the user's may extend or include the bundled one of the same name as
``digest:NAME`` (``{% extends "digest:email/digest.mjml.j2" %}``), to change its blocks
and keep the rest."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import jinja2

from digest.errors import RenderError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUNDLED_PREFIX = "digest:"  # a name that resolves among the bundled templates only
# Email templates written for the fixed placeholders of earlier versions keep working: in
# the template's own source (never in what it renders) each becomes the render's own.
FIXED_PLACEHOLDERS = {
    "%%name%%": "{{ reader.name }}",
    "%%name_html%%": "{{ reader.name }}",
    "%%unsubscribe_url%%": "{{ reader.unsubscribe_url }}",
    "%%preferences_url%%": "{{ reader.preferences_url }}",
}


def bundled_templates() -> Path:
    """The templates shipped with Digest: inside the installed package, or the checkout's."""
    installed = PACKAGE_DIR / "templates"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "templates"


class _Loader(jinja2.FileSystemLoader):
    """The folders in order (``digest:NAME``: the bundled one); in an email template, the
    fixed placeholders become expressions."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template.startswith(BUNDLED_PREFIX):
            template = template.removeprefix(BUNDLED_PREFIX)
            bundled = jinja2.FileSystemLoader(str(bundled_templates()))
            source, path, uptodate = bundled.get_source(environment, template)
        else:
            source, path, uptodate = super().get_source(environment, template)
        if not template.startswith("email/"):
            return source, path, uptodate
        for fixed, expression in FIXED_PLACEHOLDERS.items():
            source = source.replace(fixed, expression)
        return source, path, uptodate


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """``text`` wrapped at ``width`` columns, never splitting a word at its hyphen (Jinja's
    ``wordwrap`` does: "general-\npurpose") nor inside a long word such as an address."""
    return textwrap.fill(
        " ".join(text.split()),
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def environment(user_dir: Path | None, *, html: bool) -> jinja2.Environment:
    folders = [str(p) for p in (user_dir, bundled_templates()) if p is not None]
    env = jinja2.Environment(
        loader=_Loader(folders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env


def select(env: jinja2.Environment, names: list[str]) -> jinja2.Template:
    try:
        return env.select_template(names)
    except jinja2.TemplateNotFound as e:
        raise RenderError(f"no template found among {', '.join(names)}") from e
    except jinja2.TemplateSyntaxError as e:
        raise RenderError(
            f"{e.filename or e.name}:{e.lineno}: template syntax error: {e.message}"
        ) from e
