"""`digest editors add | list | remove`: who may sign in to the desk, with passwords hashed
with Argon2, weak input refused in one line, and a removal that ends at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import run_cli, write_audience_config
from sqlalchemy import select

from digest.cli import cli
from digest.run.editors import EditorError, add_editor, remove_editor, verify_editor
from digest.store.database import Store
from digest.store.models import Editor


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    return write_audience_config(tmp_path / "digest.toml", database_url)


def editors_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config: Path,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    return run_cli(capsys, "editors", args[0], "--config", str(config), *args[1:])


def test_add_list_remove(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config: Path,
    store: Store,
) -> None:
    code, out, err = editors_cli(
        capsys, monkeypatch, config, "add", "Ada@Example.ORG", "--name", "Ada  Lovelace",
        "--password-stdin", stdin="correct horse\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert (
        out == "added editor ada@example.org; they sign in at https://desk.example/digest/desk/\n"
    )
    with store.session() as session:
        row = session.scalars(select(Editor)).one()
        assert (row.email, row.name) == ("ada@example.org", "Ada Lovelace")
        assert row.password_hash.startswith("$argon2id$")
        assert "correct horse" not in row.password_hash
    assert verify_editor(store, "ADA@example.org", "correct horse") is not None
    assert verify_editor(store, "ada@example.org", "correct horse\n") is None

    code, out, _ = editors_cli(capsys, monkeypatch, config, "list")
    assert code == 0 and out.startswith("ada@example.org (Ada Lovelace), added ")
    code, out, _ = editors_cli(capsys, monkeypatch, config, "list", "--json")
    assert json.loads(out)["email"] == "ada@example.org"

    code, out, _ = editors_cli(capsys, monkeypatch, config, "remove", "ADA@example.org")
    assert (code, out) == (0, "removed editor ada@example.org\n")
    assert verify_editor(store, "ada@example.org", "correct horse") is None
    # a second removal finds the work done, says so and succeeds
    code, out, _ = editors_cli(capsys, monkeypatch, config, "remove", "ada@example.org")
    assert (code, out) == (0, "ada@example.org is not an editor; nothing to remove\n")
    code, out, _ = editors_cli(capsys, monkeypatch, config, "list")
    assert out == "no editors yet; `digest editors add EMAIL` adds one\n"


@pytest.mark.parametrize(
    ("address", "password", "told"),
    [
        ("ada@example.org", "", "error: the password is empty; choose one of at least 8"),
        ("ada@example.org", "short", "error: the password has 5 characters; use at least 8"),
        ("ada@example.org", "        ", "error: the password is only spaces; choose another"),
        ("ada@", "long enough", "error: 'ada@' is not a valid email address: "),
        ("", "long enough", "error: give the editor's email address"),
    ],
)
def test_weak_input_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config: Path,
    store: Store,
    address: str,
    password: str,
    told: str,
) -> None:
    code, out, err = editors_cli(
        capsys, monkeypatch, config, "add", address, "--password-stdin", stdin=password + "\n"
    )
    assert code == 1 and out == ""
    assert err.startswith(told) and err.count("\n") == 1
    with store.session() as session:
        assert session.scalars(select(Editor)).all() == []


def test_an_address_is_added_once(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config: Path,
    store: Store,
) -> None:
    add_editor(store, "ada@example.org", "first password")
    code, _, err = editors_cli(
        capsys, monkeypatch, config, "add", "ADA@example.org", "--password-stdin",
        stdin="second password\n",
    )  # fmt: skip
    assert code == 1
    assert err == (
        "error: ada@example.org is already an editor; `digest editors remove ada@example.org` "
        "first to set a new password\n"
    )
    assert verify_editor(store, "ada@example.org", "first password") is not None
    with pytest.raises(EditorError, match="already an editor"):
        add_editor(store, "ada@example.org", "third password")


def test_the_password_prompt_hides_and_confirms(config: Path, store: Store) -> None:
    runner = CliRunner()
    args = ["editors", "add", "bo@example.org", "--config", str(config)]
    mismatch = runner.invoke(cli, args, input="first pass\nsecond pass\nfirst pass\nfirst pass\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "Error: The two entered values do not match." in mismatch.output
    assert "first pass" not in mismatch.output  # never echoed
    assert verify_editor(store, "bo@example.org", "first pass") is not None


def test_a_removed_editor_added_again_is_another_editor(store: Store) -> None:
    first = add_editor(store, "ada@example.org", "first password")
    assert remove_editor(store, "ada@example.org")
    again = add_editor(store, "ada@example.org", "second password")
    assert first.key != again.key  # the first one's sessions do not come back
    assert verify_editor(store, "ada@example.org", "first password") is None
    assert verify_editor(store, "ada@example.org", "second password") == again
