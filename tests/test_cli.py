from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from digest import __version__
from digest.cli import cli


def test_help_lists_every_command_with_one_line() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("run", "send", "ingest", "schedule", "settings"):
        assert f"  {name} " in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output.strip() == f"digest, version {__version__}"


def test_console_script_errors_are_one_line() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from digest.cli import main; main()",
            "run",
            "--config",
            "/nope.toml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2  # a usage error
    assert done.stderr.strip() == (
        "error: /nope.toml: config file not found (the path given to --config); check the path"
    )
