"""The docs are checked: the settings reference is current and every command is documented."""

from __future__ import annotations

from pathlib import Path

from digest.cli import cli
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
    for name, command in cli.commands.items():
        assert f"`digest {name}" in readme, f"README does not document `digest {name}`"
        assert command.help and command.help.strip()


def test_readme_states_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && digest run --config examples/newsroom/digest.toml" in readme
    assert "pip install '.[test]' && pytest" in readme
