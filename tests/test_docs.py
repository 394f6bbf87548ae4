"""The docs are checked: the settings reference is current and every command is documented."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli import cli
from digest.render.reference import VARIABLES, email_templates, templates_markdown
from digest.render.templates import bundled_templates
from digest.settings import describe, settings_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_settings_reference_is_made_from_the_declarations() -> None:
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings_markdown(), (
        "run: digest settings --markdown > docs/settings.md"
    )


def test_every_setting_has_help() -> None:
    for table, key, _default, text in describe():
        assert text.strip(), f"[{table}] {key} has no help"


def test_every_command_is_in_the_readme_with_help() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = cli.list_commands(click.Context(cli))  # the group loads its commands lazily
    assert "templates" in names
    for name in names:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        assert f"`digest {name}" in readme, f"README does not document `digest {name}`"
        assert command.help and command.help.strip()


def test_readme_states_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && digest run --config examples/newsroom/digest.toml" in readme
    assert "pip install '.[test]' && pytest" in readme


def test_templates_reference_is_made_from_the_templates() -> None:
    assert (ROOT / "docs" / "templates.md").read_text(encoding="utf-8") == templates_markdown(), (
        "run: digest templates list --markdown > docs/templates.md"
    )


def test_templates_reference_names_every_bundled_email_template() -> None:
    reference = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    names = sorted((bundled_templates() / "email").glob("*.j2"))
    assert len(names) >= 4
    for path in names:
        assert f"## `email/{path.name}`" in reference, f"docs/templates.md misses {path.name}"


def test_every_variable_the_email_templates_read_is_described() -> None:
    for info in email_templates():
        for variable in info.variables:
            assert VARIABLES.get(variable), (
                f"{info.name} reads {variable}: describe it in VARIABLES"
            )


def test_the_readme_says_how_to_override_templates() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "**Your own templates.**" in readme and "docs/templates.md" in readme
    assert '{% extends "digest:email/digest.mjml.j2" %}' in readme


def test_the_readme_shows_the_crontab_line_and_every_systemd_unit() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "*/5 * * * * digest run --config /srv/newsroom/digest.toml" in readme
    units = sorted(p.name for p in (ROOT / "examples" / "systemd").iterdir())
    assert units == [
        "digest-run.service",
        "digest-run.timer",
        "digest-schedule.service",
        "digest-serve.service",
        "digest-worker.service",
    ]
    for name in units:
        assert f"`{name}`" in readme, f"README does not show examples/systemd/{name}"
        text = (ROOT / "examples" / "systemd" / name).read_text(encoding="utf-8")
        if name.endswith(".service"):
            command = name.removeprefix("digest-").removesuffix(".service")
            assert f"/bin/digest {command} --config /srv/newsroom/digest.toml" in text
