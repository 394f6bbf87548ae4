"""``digest settings``: every setting with its default and help."""

from __future__ import annotations

import click

from digest.settings import settings_markdown, settings_text


@click.command()
@click.option(
    "--markdown", is_flag=True, help="Print the reference as Markdown (docs/settings.md)."
)
def settings(markdown: bool) -> None:
    """List every configuration setting with its default and help."""
    click.echo(settings_markdown() if markdown else settings_text(), nl=False)
