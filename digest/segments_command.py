"""``digest segments``: each segment's audience rule and how many people it reaches.

Counting before sending is how an operator checks a new rule: the first number is
everyone the rule matches (in the statuses it names), the second the active ones,
the only people a send ever reaches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click

from digest.config import load_config
from digest.options import config_option
from digest.settings import AUDIENCE_KEYS, SegmentSettings
from digest.store.database import open_store
from subscribers.audience import sizes


@dataclass(frozen=True)
class SegmentAudience:
    segment: str
    matching: int
    sendable: int
    personalised: bool
    rule: str
    settings: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "matching": self.matching,
            "sendable": self.sendable,
            "personalised": self.personalised,
            "rule": self.rule,
            "audience": self.settings,
        }

    def as_text(self) -> str:
        return (
            f"{self.segment}: {self.matching} matching, {self.sendable} active (sendable), "
            f"personalised {'yes' if self.personalised else 'no'}\n  {self.rule}"
        )


def audience_settings(segment: SegmentSettings) -> dict[str, object]:
    """The segment's audience keys as written in the config, lists as JSON lists."""
    out: dict[str, object] = {}
    for key in sorted(AUDIENCE_KEYS):
        value = getattr(segment, key)
        if isinstance(value, dict):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per segment.")
def segments(config_path: Path, as_json: bool) -> None:
    """Show each segment's audience rule, how many it matches and how many are sendable."""
    config = load_config(config_path)
    with open_store(config.database_url) as store, store.session() as session:
        found = []
        for segment in config.segments.values():
            rule = segment.rule()
            matching, sendable = sizes(session, rule)
            found.append(
                SegmentAudience(
                    segment.name,
                    matching,
                    sendable,
                    segment.personalised,
                    rule.describe(),
                    audience_settings(segment),
                )
            )
    for each in found:
        click.echo(json.dumps(each.as_json()) if as_json else each.as_text())
