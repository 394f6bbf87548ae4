"""``digest templates check``: a newsroom's own templates, checked before they send."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest.commands.options import config_option
from digest.config import load_config
from digest.render.check import check_templates
from digest.render.email import Identity
from digest.render.reference import templates_markdown, templates_text


@click.group("templates")
def templates_group() -> None:
    """Check your own email templates (the templates_dir folder) before they send."""


@templates_group.command("check")
@config_option
def check(config_path: Path) -> None:
    """Render each segment's edition with your templates_dir over the bundled templates;
    print one line per problem (a template that does not parse or render, or an edition
    without an unsubscribe link, the postal address or a text part) and exit 1, or one
    line saying what was checked."""
    config = load_config(config_path)
    general = config.general
    user_dir = config.resolve(general.templates_dir) if general.templates_dir else None
    identity = Identity(config.sender.name, config.sender.postal_address, config.zone)
    report = check_templates(user_dir, identity, list(config.segments.values()))
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.problems:
        sys.exit(1)
    click.echo(report.checked)


@templates_group.command("list")
@click.option(
    "--markdown", is_flag=True, help="Print the reference as Markdown (docs/templates.md)."
)
def list_templates(markdown: bool) -> None:
    """List the bundled email templates: each with the templates it includes, its blocks and
    the variables it reads."""
    click.echo(templates_markdown() if markdown else templates_text(), nl=False)
