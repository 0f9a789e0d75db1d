"""Business time: working days and hours in a time zone, minus holidays.

An SLA of "24 business hours" is counted only inside working hours, in the calendar's own
time zone. Everything here is pure Python on aware datetimes; storage stays UTC.

    calendar = BusinessCalendar.build(
        time_zone="Europe/Berlin",
        working_hours={0: [("09:00", "17:00")], 1: [("09:00", "17:00")], ...},  # Monday is 0
        holidays=[("2026-12-24", "2026-12-26", "Christmas")],
    )
    due = add_business_hours(arrived_at, 24, calendar)
    spent = business_hours_between(arrived_at, answered_at, calendar)

Elapsed business time is real elapsed time: a working span that crosses a daylight-saving
switch is an hour shorter or longer, exactly as the clock on the wall says. A lead arriving
outside working hours starts its clock at the next working moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from accord.core.errors import ValidationFailed

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A calendar whose holidays leave no working time for this long is treated as broken.
_MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class Holiday:
    start: date
    end: date  # inclusive
    name: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str
    # weekday (Monday 0) → ordered, non-overlapping (start, end) local times
    working_hours: tuple[tuple[tuple[time, time], ...], ...]
    holidays: tuple[Holiday, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        working_hours: Mapping[int | str, Iterable[Iterable[str | time]]],
        holidays: Iterable[Iterable[str | date]] = (),
    ) -> "BusinessCalendar":
        """Parse and validate; raises ValidationFailed naming the field and the problem."""
        errors: dict[str, str] = {}
        try:
            if not time_zone:
                raise ZoneInfoNotFoundError
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = f"'{time_zone}' is not a time zone (use a name such as Europe/Berlin)"

        days: list[tuple[tuple[time, time], ...]] = [() for _ in range(7)]
        try:
            for key, spans in (working_hours or {}).items():
                weekday = int(key)
                if not 0 <= weekday <= 6:
                    raise ValueError(f"day {key!r} is not a weekday number 0 (Monday) to 6 (Sunday)")
                days[weekday] = _parse_spans(WEEKDAY_NAMES[weekday], spans)
            if not any(days):
                raise ValueError("the calendar has no working hours: give at least one day with hours, e.g. 09:00-17:00")
        except ValueError as problem:
            errors["working_hours"] = str(problem)

        parsed_holidays: list[Holiday] = []
        try:
            parsed_holidays = _parse_holidays(holidays)
        except ValueError as problem:
            errors["holidays"] = str(problem)
        if errors:
            raise ValidationFailed(errors)
        return cls(time_zone=time_zone, working_hours=tuple(days), holidays=tuple(parsed_holidays))

    def is_holiday(self, day: date) -> bool:
        return any(holiday.covers(day) for holiday in self.holidays)

    def spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working spans of one local day as UTC datetimes (empty on holidays and days off)."""
        if self.is_holiday(day):
            return []
        zone = self.zone
        spans = []
        for start, end in self.working_hours[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            finish = _local_end(day, end, zone)
            if finish > begin:
                spans.append((begin, finish))
        return spans

    def describe(self) -> str:
        parts = []
        for weekday, spans in enumerate(self.working_hours):
            if spans:
                hours = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in spans)
                parts.append(f"{WEEKDAY_NAMES[weekday][:3]} {hours}")
        return f"{'; '.join(parts)} ({self.time_zone})"


def _local_end(day: date, end: time, zone: ZoneInfo) -> datetime:
    # 24:00 is written as 00:00 of the next day.
    if end == time(0, 0):
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def _parse_time(raw: str | time, where: str) -> time:
    if isinstance(raw, time):
        return raw
    text = str(raw).strip()
    if text in ("24:00", "24:00:00"):
        return time(0, 0)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: '{raw}' is not a time of day (use HH:MM)") from None


def _parse_spans(day_name: str, spans: Iterable[Iterable[str | time]]) -> tuple[tuple[time, time], ...]:
    parsed: list[tuple[time, time]] = []
    for span in spans or ():
        items = list(span)
        if len(items) != 2:
            raise ValueError(f"{day_name}: each span needs a start and an end")
        start, end = _parse_time(items[0], day_name), _parse_time(items[1], day_name)
        if end != time(0, 0) and end <= start:
            raise ValueError(
                f"{day_name}: {start:%H:%M}–{end:%H:%M} ends before it starts (split a night shift over two days)"
            )
        parsed.append((start, end))
    parsed.sort()
    for (a_start, a_end), (b_start, _) in zip(parsed, parsed[1:]):
        if a_end == time(0, 0) or b_start < a_end:
            raise ValueError(f"{day_name}: the spans starting {a_start:%H:%M} and {b_start:%H:%M} overlap")
    return tuple(parsed)


def _parse_date(raw: str | date, name: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"holiday {name or raw!r}: '{raw}' is not a date (use YYYY-MM-DD)") from None


def _parse_holidays(holidays: Iterable[Iterable[str | date]]) -> list[Holiday]:
    parsed: list[Holiday] = []
    for entry in holidays or ():
        if isinstance(entry, Mapping):
            items = [entry.get("start"), entry.get("end") or entry.get("start"), entry.get("name", "")]
        else:
            items = list(entry)
        if len(items) == 2:
            items.append("")
        if len(items) != 3 or not items[0]:
            raise ValueError("each holiday needs a start date, an end date and optionally a name")
        name = str(items[2] or "").strip()
        start, end = _parse_date(items[0], name), _parse_date(items[1] or items[0], name)
        if end < start:
            raise ValueError(f"holiday {name or start.isoformat()!r} ends ({end}) before it starts ({start})")
        parsed.append(Holiday(start=start, end=end, name=name))
    parsed.sort(key=lambda holiday: (holiday.start, holiday.end))
    for first, second in zip(parsed, parsed[1:]):
        if second.start <= first.end:
            raise ValueError(
                f"holidays {first.name or first.start.isoformat()!r} ({first.start}–{first.end}) and "
                f"{second.name or second.start.isoformat()!r} ({second.start}–{second.end}) overlap; "
                "merge them into one"
            )
    return parsed


def _days_from(moment: datetime, calendar: BusinessCalendar):
    """Local dates starting with the (local) day of ``moment``, one day back for safety."""
    day = moment.astimezone(calendar.zone).date() - timedelta(days=1)
    for offset in range(_MAX_SEARCH_DAYS):
        yield day + timedelta(days=offset)
    raise ValueError(f"the calendar has no working time within {_MAX_SEARCH_DAYS} days of {moment.isoformat()}")


def _require_aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def next_business_moment(moment: datetime, calendar: BusinessCalendar) -> datetime:
    """``moment`` itself when it falls inside working hours, else the start of the next span."""
    return add_business_hours(moment, 0, calendar, roll_forward=True)


def add_business_hours(
    start: datetime, hours: float, calendar: BusinessCalendar, *, roll_forward: bool = False
) -> datetime:
    """The moment ``hours`` working hours after ``start`` (aware UTC).

    Zero hours returns ``start`` unchanged unless ``roll_forward`` asks for the next working moment.
    """
    cursor = _require_aware(start, "start")
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(hours=hours)
    if not remaining and not roll_forward:
        return cursor
    for day in _days_from(cursor, calendar):
        for begin, finish in calendar.spans_on(day):
            if finish <= cursor:
                continue
            begin = max(begin, cursor)
            available = finish - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = finish
    raise AssertionError("unreachable")


def business_hours_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Working hours elapsed from ``start`` to ``end``; negative when ``end`` comes first."""
    start, end = _require_aware(start, "start"), _require_aware(end, "end")
    if end < start:
        return -business_hours_between(end, start, calendar)
    total = timedelta()
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date() + timedelta(days=1)
    while day <= last:
        for begin, finish in calendar.spans_on(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600
