"""``digest editors``: the people who may sign in to the desk (add, list, remove)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from digest.commands.options import config_option
from digest.config import load_config
from digest.run.editors import add_editor, editor_address, list_editors, remove_editor
from digest.store.database import open_store


@click.group("editors")
def editors_group() -> None:
    """Add, list and remove the editors who may sign in to the desk."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    password: str = click.prompt(
        "Password",
        hide_input=True,
        confirmation_prompt="Repeat the password",
        default="",
        show_default=False,
    )
    return password


@editors_group.command("add")
@config_option
@click.argument("email")
@click.option("--name", default="", help="The editor's name, as the desk shows it.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
def add(config_path: Path, email: str, name: str, password_stdin: bool) -> None:
    """Add EMAIL as an editor; the password is asked for twice (not echoed)."""
    config = load_config(config_path)
    password = _read_password(password_stdin)
    with open_store(config.database_url) as store:
        editor = add_editor(store, email, password, name)
    click.echo(f"added editor {editor.email}; they sign in at {_desk_url(config.sender.base_url)}")


@editors_group.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per editor.")
def list_command(config_path: Path, as_json: bool) -> None:
    """List the editors: address, name and when each was added."""
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        editors = list_editors(store)
    if not editors and not as_json:
        click.echo("no editors yet; `digest editors add EMAIL` adds one")
    for editor in editors:
        if as_json:
            added = editor.created_at.isoformat()
            row = {"email": editor.email, "name": editor.name, "added": added}
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            named = f" ({editor.name})" if editor.name else ""
            added = editor.created_at.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z")
            click.echo(f"{editor.email}{named}, added {added}")


@editors_group.command("remove")
@config_option
@click.argument("email")
def remove(config_path: Path, email: str) -> None:
    """Remove EMAIL from the editors; their desk sessions end at their next request."""
    config = load_config(config_path)
    with open_store(config.database_url) as store:
        removed = remove_editor(store, email)
    address = editor_address(email)
    if removed:
        click.echo(f"removed editor {address}")
    else:
        click.echo(f"{address} is not an editor; nothing to remove")


def _desk_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/desk/"
