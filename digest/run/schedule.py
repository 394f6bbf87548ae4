"""A segment's cron schedule in words, and its firings before and after a moment in a zone
(the desk's overview). Which slots are due is :mod:`digest.run.due`'s; their wall-clock
arithmetic :mod:`digest.run.slots`'."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


def trigger_for(expression: str, zone: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone=zone)


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
