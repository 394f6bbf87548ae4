"""A schedule's wall-clock slots and the instants they fall on, across clock changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from digest.run.slots import (
    earliest_instant,
    instant,
    latest_slot,
    next_slot,
    next_wall,
    previous_wall,
    wall_key,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30
AUCKLAND = ZoneInfo("Pacific/Auckland")
NEW_YORK = ZoneInfo("America/New_York")


def test_walls_step_through_the_schedule() -> None:
    monday_8 = "0 8 * * mon"
    assert next_wall(monday_8, datetime(2026, 12, 5, 12, 0)) == datetime(2026, 12, 7, 8, 0)
    assert previous_wall(monday_8, datetime(2026, 12, 5, 12, 0)) == datetime(2026, 11, 30, 8, 0)
    assert previous_wall(monday_8, datetime(2026, 11, 30, 8, 0)) == datetime(2026, 11, 30, 8, 0)
    assert next_wall(monday_8, datetime(2026, 11, 30, 8, 0)) == datetime(2026, 12, 7, 8, 0)
    yearly = "0 0 1 1 *"
    assert previous_wall(yearly, datetime(2026, 12, 5)) == datetime(2026, 1, 1)
    assert wall_key(datetime(2026, 1, 1, 7, 5)) == "2026-01-01T07:05"


def test_a_time_the_spring_change_skips_falls_after_the_gap() -> None:
    # Helsinki, 29 March 2026: 03:00 EET becomes 04:00 EEST; 03:30 never shows on a clock.
    when = instant(datetime(2026, 3, 29, 3, 30), HELSINKI)
    assert when == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert when.astimezone(HELSINKI).strftime("%H:%M") == "04:30"


def test_a_time_the_autumn_change_repeats_falls_on_its_first_pass() -> None:
    # Helsinki, 25 October 2026: 04:00 EEST becomes 03:00 EET; 03:30 shows twice.
    when = instant(datetime(2026, 10, 25, 3, 30), HELSINKI)
    assert when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # An hour later the clock reads 03:30 again, and the slot has already begun: it is
    # still the latest slot, not a new one.
    again = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert again.astimezone(HELSINKI).strftime("%H:%M") == "03:30"
    assert latest_slot("30 3 * * *", [HELSINKI], again) == datetime(2026, 10, 25, 3, 30)
    assert next_slot("30 3 * * *", [HELSINKI], again) == datetime(2026, 10, 26, 3, 30)


def test_the_latest_slot_is_the_one_begun_in_the_zone_furthest_ahead() -> None:
    zones = [LONDON, KOLKATA, AUCKLAND, NEW_YORK]
    # 19:30 UTC on 4 December is 08:30 on 5 December in Auckland (UTC+13).
    now = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)
    assert latest_slot("0 8 * * *", zones, now) == datetime(2026, 12, 5, 8, 0)
    assert latest_slot("0 8 * * *", [LONDON], now) == datetime(2026, 12, 4, 8, 0)
    assert earliest_instant(datetime(2026, 12, 5, 8, 0), zones) == datetime(
        2026, 12, 4, 19, 0, tzinfo=UTC
    )
    assert next_slot("0 8 * * *", zones, now) == datetime(2026, 12, 6, 8, 0)
    assert next_slot("0 8 * * *", [LONDON], now) == datetime(2026, 12, 5, 8, 0)
    # Kolkata's 08:00 is 02:30 UTC.
    assert instant(datetime(2026, 12, 5, 8, 0), KOLKATA) == datetime(2026, 12, 5, 2, 30, tzinfo=UTC)


def test_no_slot_within_a_year_is_none() -> None:
    assert latest_slot("0 0 30 2 *", [LONDON], datetime(2026, 12, 5, tzinfo=UTC)) is None
