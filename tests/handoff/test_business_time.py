"""Business-time arithmetic: weekends, holidays, time zones, daylight saving, arrivals outside hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accord.core.business_time import BusinessCalendar, add_business_hours, business_hours_between, next_business_moment
from accord.core.errors import ValidationFailed

WEEKDAYS_9_TO_17 = {day: [("09:00", "17:00")] for day in range(5)}
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def calendar(time_zone="Europe/Berlin", holidays=(), hours=None) -> BusinessCalendar:
    return BusinessCalendar.build(time_zone=time_zone, working_hours=hours or WEEKDAYS_9_TO_17, holidays=holidays)


def test_hours_inside_one_working_day_are_plain_hours():
    assert add_business_hours(berlin(2026, 3, 2, 10), 3, calendar()) == berlin(2026, 3, 2, 13)


def test_it_carries_the_rest_over_to_the_next_working_morning():
    # Monday 15:00 + 4h = 2h on Monday, 2h on Tuesday.
    assert add_business_hours(berlin(2026, 3, 2, 15), 4, calendar()) == berlin(2026, 3, 3, 11)


def test_it_skips_the_weekend():
    # Friday 16:00 + 2h → Monday 10:00.
    assert add_business_hours(berlin(2026, 3, 6, 16), 2, calendar()) == berlin(2026, 3, 9, 10)


def test_24_business_hours_are_three_working_days():
    assert add_business_hours(berlin(2026, 3, 2, 9), 24, calendar()) == berlin(2026, 3, 4, 17)


def test_a_lead_arriving_at_night_starts_its_clock_in_the_morning():
    assert add_business_hours(berlin(2026, 3, 2, 22, 30), 1, calendar()) == berlin(2026, 3, 3, 10)
    assert next_business_moment(berlin(2026, 3, 7, 12), calendar()) == berlin(2026, 3, 9, 9)


def test_it_skips_holidays_and_multi_day_holidays():
    cal = calendar(holidays=[("2026-12-24", "2026-12-26", "Christmas"), ("2026-12-31", "2027-01-01", "New Year")])
    # Wednesday 23 Dec 16:00 + 2h → Dec 24–26 off, 27 is Sunday → Monday 28 Dec 10:00.
    assert add_business_hours(berlin(2026, 12, 23, 16), 2, cal) == berlin(2026, 12, 28, 10)
    # Wednesday 30 Dec 16:00 + 2h → 31 and 1 off, 2–3 weekend → Monday 4 Jan 10:00.
    assert add_business_hours(berlin(2026, 12, 30, 16), 2, cal) == berlin(2027, 1, 4, 10)


def test_hours_are_counted_in_the_calendars_time_zone():
    cal = calendar(time_zone="America/New_York")
    # 13:00 UTC on a Monday in March (before US DST) is 08:00 in New York: clock starts at 09:00 local.
    due = add_business_hours(datetime(2026, 3, 2, 13, tzinfo=UTC), 1, cal)
    assert due == datetime(2026, 3, 2, 10, tzinfo=NEW_YORK)
    assert due.tzinfo == UTC


def test_a_dst_switch_inside_working_hours_counts_real_elapsed_time():
    # Europe switches on Sunday 29 March 2026 at 02:00 → 03:00; a 24-hour calendar sees a 23-hour day.
    every_hour = {day: [("00:00", "24:00")] for day in range(7)}
    cal = calendar(hours=every_hour)
    start = berlin(2026, 3, 29, 0)
    assert add_business_hours(start, 24, cal) == berlin(2026, 3, 30, 1)
    assert business_hours_between(start, berlin(2026, 3, 30, 0), cal) == 23


def test_office_hours_keep_their_local_times_across_the_dst_switch():
    # Friday 27 March 16:00 (UTC+1) + 2h → Monday 30 March 10:00 (now UTC+2).
    due = add_business_hours(berlin(2026, 3, 27, 16), 2, calendar())
    assert due == berlin(2026, 3, 30, 10)
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    # Autumn: 23 October 16:00 (UTC+2) + 2h → Monday 26 October 10:00 (UTC+1).
    assert add_business_hours(berlin(2026, 10, 23, 16), 2, calendar()) == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_business_hours_between_matches_adding_them():
    cal = calendar(holidays=[("2026-12-24", "2026-12-26", "Christmas")])
    start = berlin(2026, 12, 22, 14, 15)
    for hours in (0.5, 3, 8, 17.25, 40):
        assert business_hours_between(start, add_business_hours(start, hours, cal), cal) == pytest.approx(hours)
    assert business_hours_between(berlin(2026, 3, 7, 9), berlin(2026, 3, 8, 17), cal) == 0


def test_split_days_with_a_lunch_break():
    cal = calendar(hours={0: [("09:00", "12:00"), ("13:00", "17:00")]})
    assert add_business_hours(berlin(2026, 3, 2, 11), 2, cal) == berlin(2026, 3, 2, 14)


def test_it_refuses_a_calendar_with_no_working_hours():
    with pytest.raises(ValidationFailed) as refused:
        BusinessCalendar.build(time_zone="UTC", working_hours={0: [], 3: []})
    assert "no working hours" in refused.value.errors["working_hours"]


def test_it_refuses_overlapping_holidays_naming_both():
    with pytest.raises(ValidationFailed) as refused:
        calendar(holidays=[("2026-12-24", "2026-12-26", "Christmas"), ("2026-12-26", "2026-12-27", "Boxing weekend")])
    message = refused.value.errors["holidays"]
    assert "Christmas" in message and "Boxing weekend" in message and "overlap" in message


@pytest.mark.parametrize(
    "field,kwargs,expected",
    [
        ("time_zone", {"time_zone": "Mars/Olympus"}, "not a time zone"),
        ("working_hours", {"working_hours": {0: [("17:00", "09:00")]}}, "ends before it starts"),
        ("working_hours", {"working_hours": {0: [("09:00", "13:00"), ("12:00", "17:00")]}}, "overlap"),
        ("working_hours", {"working_hours": {0: [("9am", "17:00")]}}, "not a time of day"),
        ("holidays", {"holidays": [("2026-12-26", "2026-12-24", "Backwards")]}, "before it starts"),
        ("holidays", {"holidays": [("26/12/2026", "2026-12-24", "X")]}, "not a date"),
    ],
)
def test_it_refuses_bad_calendars_naming_the_field(field, kwargs, expected):
    values = {"time_zone": "UTC", "working_hours": WEEKDAYS_9_TO_17, **kwargs}
    with pytest.raises(ValidationFailed) as refused:
        BusinessCalendar.build(**values)
    assert expected in refused.value.errors[field]


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_hours(datetime(2026, 3, 2, 10), 1, calendar())
