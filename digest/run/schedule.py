"""Run segments on their cron schedules with APScheduler, each firing keyed by its slot."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from digest.config import Config

MISFIRE_GRACE_SECONDS = 300

SegmentJob = Callable[[str, str], None]
"""Called with (segment name, slot) when a segment's schedule fires."""
DeadlineJob = Callable[[str], None]
"""Called with a segment's name at the approval deadline after each of its firings."""


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


def build_scheduler(
    config: Config, job: SegmentJob, deadline_job: DeadlineJob | None = None
) -> BlockingScheduler:
    """A blocking scheduler in the configured zone with one cron job per segment, and for
    each segment that waits for approval with a deadline, a job at that deadline."""
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
        minutes = segment.approval_deadline
        if deadline_job is not None and segment.approval == "required" and minutes > 0:
            scheduler.add_job(
                deadline_job,
                AfterTrigger(trigger, timedelta(minutes=minutes)),
                args=(segment.name,),
                id=f"deadline:{segment.name}",
                name=f"approval deadline of {segment.name}",
                replace_existing=True,
            )
    return scheduler


class AfterTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler has no type hints
    """Fires ``delay`` after each firing of ``trigger``: at the approval deadline."""

    def __init__(self, trigger: CronTrigger, delay: timedelta) -> None:
        self.trigger = trigger
        self.delay = delay

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        previous = previous_fire_time - self.delay if previous_fire_time else None
        fire = _fire_after(self.trigger, previous, now - self.delay)
        return None if fire is None else fire + self.delay

    def __str__(self) -> str:
        return f"{self.delay.total_seconds() / 60:g} minutes after {self.trigger}"


def _fire(job: SegmentJob, segment: str, trigger: CronTrigger, zone: ZoneInfo) -> None:
    now = datetime.now(zone)
    job(segment, slot_for(trigger, zone, now))


def next_run(expression: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The schedule's next firing at or after ``now``, in ``zone``."""
    found = _fire_after(trigger_for(expression, zone), None, now.astimezone(zone))
    return None if found is None else found.astimezone(zone)


def _fire_after(trigger: CronTrigger, previous: datetime | None, now: datetime) -> datetime | None:
    """The trigger's first firing at or after ``now`` (after ``previous``, if given)."""
    found: datetime | None = trigger.get_next_fire_time(previous, now)
    return found


LOOK_BACK = (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32))


def last_run(expression: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The schedule's latest firing at or before ``now`` (within 32 days), in ``zone``."""
    trigger = trigger_for(expression, zone)
    here = now.astimezone(zone)
    for back in LOOK_BACK:
        fire = _fire_after(trigger, None, here - back)
        if fire is None or fire > here:
            continue
        while True:
            later = _fire_after(trigger, fire, fire + timedelta(seconds=1))
            if later is None or later > here:
                return fire.astimezone(zone)
            fire = later
    return None


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_START = datetime(2024, 1, 1, tzinfo=ZoneInfo("UTC"))  # a Monday


def in_words(expression: str) -> str:
    """A five-field cron expression as people say it: "every day at 07:00", "every Monday
    at 08:00", "at 07:00 on weekdays", "every 15 minutes"; an expression these forms do
    not fit is given as it is ("on the cron schedule …"). Days of the week are those the
    scheduler runs on (APScheduler 3 counts 0 as Monday)."""
    fields = expression.split()
    if len(fields) != 5:
        return f"on the cron schedule {expression!r}"
    minute, hour, day, month, weekday = fields
    if day.isdigit() and month == weekday == "*" and minute.isdigit() and hour.isdigit():
        return f"at {int(hour):02d}:{int(minute):02d} on day {int(day)} of every month"
    if day != "*" or month != "*":
        return f"on the cron schedule {expression!r}"
    often = _often(minute, hour, weekday)
    if often:
        return often
    trigger = trigger_for(expression, ZoneInfo("UTC"))
    fires: list[datetime] = []
    fire = _fire_after(trigger, None, WEEK_START)
    while fire is not None and fire < WEEK_START + timedelta(days=7) and len(fires) <= 7 * 24:
        fires.append(fire)
        fire = _fire_after(trigger, fire, fire + timedelta(seconds=1))
    days = sorted({f.weekday() for f in fires})
    times = sorted({f.strftime("%H:%M") for f in fires})
    if not fires or len(fires) != len(days) * len(times) or len(times) > 6:
        return f"on the cron schedule {expression!r}"
    at = "at " + _and(times)
    if len(days) == 7:
        return f"every day {at}"
    if days == [0, 1, 2, 3, 4]:
        return f"{at} on weekdays"
    if days == [5, 6]:
        return f"{at} on weekends"
    return f"every {_and([DAYS[d] for d in days])} {at}"


def _often(minute: str, hour: str, weekday: str) -> str:
    """Schedules that fire every few minutes or hours, every day."""
    if weekday != "*":
        return ""
    if hour == "*" and minute == "*":
        return "every minute"
    step = re.fullmatch(r"\*/(\d+)", minute)
    if hour == "*" and step:
        return f"every {step.group(1)} minutes"
    past = "on the hour" if minute.isdigit() and int(minute) == 0 else f"at {minute} minutes past"
    if hour == "*" and minute.isdigit():
        return f"every hour {past}"
    step = re.fullmatch(r"\*/(\d+)", hour)
    if step and minute.isdigit():
        return f"every {step.group(1)} hours {past}"
    return ""


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
