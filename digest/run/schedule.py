"""Run segments on their cron schedules with APScheduler, each firing keyed by its slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from digest.config import Config

MISFIRE_GRACE_SECONDS = 300

SegmentJob = Callable[[str, str], None]
"""Called with (segment name, slot) when a segment's schedule fires."""


def trigger_for(expression: str, zone: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone=zone)


def slot_for(trigger: CronTrigger, zone: ZoneInfo, now: datetime) -> str:
    """The run key of the firing due at ``now``: its local wall-clock minute.

    APScheduler may fire a 03:30 job twice when the clocks go back; both firings
    have the same local time, so they share a slot and the second is a no-op.
    """
    due = trigger.get_next_fire_time(None, now - timedelta(seconds=MISFIRE_GRACE_SECONDS))
    when = (due or now).astimezone(zone)
    return "cron " + when.strftime("%Y-%m-%dT%H:%M")


def build_scheduler(config: Config, job: SegmentJob) -> BlockingScheduler:
    """A blocking scheduler in the configured zone with one cron job per segment."""
    zone = config.zone
    scheduler = BlockingScheduler(
        timezone=zone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    for segment in config.segments.values():
        trigger = trigger_for(segment.schedule, zone)
        scheduler.add_job(
            _fire,
            trigger,
            args=(job, segment.name, trigger, zone),
            id=f"segment:{segment.name}",
            name=f"digest {segment.name}",
            replace_existing=True,
        )
    return scheduler


def _fire(job: SegmentJob, segment: str, trigger: CronTrigger, zone: ZoneInfo) -> None:
    now = datetime.now(zone)
    job(segment, slot_for(trigger, zone, now))
