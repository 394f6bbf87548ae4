"""The ``digest`` command line: the root group and :func:`main`.

Each command lives in :mod:`digest.commands` and is imported only when it runs, so that
``digest --help`` and ``digest --version`` answer without loading every stage; the summary
the root lists is written here (a test keeps it equal to each command's own).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from digest import __version__
from digest.errors import DigestError, UsageError
from subscribers.errors import AudienceError

# name → (module in digest.commands, attribute, the summary `digest --help` shows)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "approve": (
        "desk",
        "approve",
        "Approve the segment's held edition and send it through the ledger.",
    ),
    "due": (
        "run",
        "due",
        "Show each segment's schedule, last slot, next slot, and whether it is due now.",
    ),
    "editors": (
        "editors",
        "editors_group",
        "Add, list and remove the editors who may sign in to the desk.",
    ),
    "exclude": (
        "compose",
        "exclude",
        "Leave ARTICLE (id or URL) out of the segment's next edition.",
    ),
    "extract": (
        "intake",
        "extract",
        "Print what intake makes of pages and feeds, one JSON object per article.",
    ),
    "ingest": ("intake", "ingest", "Fetch sources and store new articles; one line per source."),
    "pin": ("compose", "pin", "Put ARTICLE (id or URL) at the top of the segment's next edition."),
    "preview": (
        "compose",
        "preview",
        "Compose a segment's next edition without sending or recording it: each item with its "
        "score parts, reason and summary, each left-out candidate with its reason, and the HTML.",
    ),
    "resume": ("deliver", "resume", "Continue every unfinished edition from the ledger."),
    "run": (
        "run",
        "run",
        "Continue unfinished editions, then ingest and send every segment that is due.",
    ),
    "schedule": (
        "run",
        "schedule",
        "Send every segment when it is due, until stopped (SIGTERM or Ctrl-C).",
    ),
    "segments": (
        "audience",
        "segments",
        "Show each segment's audience rule, how many it matches and how many are sendable.",
    ),
    "send": ("run", "send", "Send one segment's next edition now, whether due or not."),
    "serve": (
        "web",
        "serve",
        "Serve the public pages, the editors' desk and the SendGrid webhook.",
    ),
    "settings": (
        "settings",
        "settings",
        "List every configuration setting with its default and help.",
    ),
    "skip": (
        "desk",
        "skip",
        "Skip the segment's held edition: nothing is sent, its articles stay new.",
    ),
    "sources": (
        "intake",
        "sources",
        "List every configured source with its health, or resume a paused one.",
    ),
    "status": (
        "deliver",
        "status",
        "Show each edition's recipients: sent, failed, pending and in doubt.",
    ),
    "subscribers": (
        "audience",
        "subscribers_group",
        "Import and export subscribers; answer access and erasure requests.",
    ),
    "summarise": (
        "compose",
        "summarise",
        "Summarise text from FILE or standard input, in whole sentences within a word budget.",
    ),
    "templates": (
        "templates",
        "templates_group",
        "Check your own email templates (the templates_dir folder) before they send.",
    ),
    "worker": (
        "deliver",
        "worker",
        "Send every edition being sent, batch by batch, until stopped (on any machine).",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are asked for, not when it is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attribute, _ = found
        command = getattr(importlib.import_module(f"digest.commands.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their summaries, shortened as click shortens a command's
        own help, without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="digest")
def cli() -> None:
    """Digest turns a stream of articles into segmented newsletter digests."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: turn every known error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="digest", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except (DigestError, AudienceError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2 if isinstance(e, UsageError) else 1)
    except Exception as e:  # the last line of defence: never a traceback
        if os.environ.get("DIGEST_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(e).__name__}: {e} (set DIGEST_DEBUG=1 for details)", err=True
        )
        sys.exit(70)
