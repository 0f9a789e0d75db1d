"""Reading list filters from query parameters, shared by every app's filter definitions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone


class ParamReader:
    """Typed reads of query parameters; each bad one is noted in ``errors`` by its name."""

    def __init__(self, params: Mapping[str, object]):
        self.params = params
        self.errors: dict[str, str] = {}

    def single(self, name: str) -> str:
        value = self.params.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        return "" if value is None else str(value).strip()

    def many(self, name: str) -> tuple[str, ...]:
        """Comma-separated or repeated values, lower-cased, each once."""
        raw = self.params.getlist(name) if hasattr(self.params, "getlist") else [self.single(name)]
        return tuple(dict.fromkeys(v.strip().lower() for item in raw for v in str(item).split(",") if v.strip()))

    def choices(self, name: str, allowed, what: str) -> tuple[str, ...]:
        values = self.many(name)
        bad = [value for value in values if value not in allowed]
        if bad:
            self.errors[name] = f"'{bad[0][:40]}' is not {what}; use one of {', '.join(allowed)}"
        return values

    def text(self, name: str, *, max_length: int = 200) -> str:
        value = self.single(name)
        if len(value) > max_length:
            self.errors[name] = f"is longer than {max_length} characters"
        return value[:max_length]

    def whole(self, name: str, *, low: int = 1, high: int = 2**62) -> int | None:
        raw = self.single(name)
        if not raw:
            return None
        try:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
            return value
        except ValueError:
            self.errors[name] = f"'{raw[:40]}' is not a valid number here"
            return None

    def day(self, name: str) -> date | None:
        raw = self.single(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"'{raw[:40]}' is not a date (use YYYY-MM-DD)"
            return None

    def day_range(self, low: str, high: str) -> tuple[date | None, date | None]:
        start, end = self.day(low), self.day(high)
        if start and end and start > end:
            self.errors[high] = f"must not be before {low}"
        return start, end


def within_days(queryset: QuerySet, field: str, start: date | None, end: date | None) -> QuerySet:
    """Rows whose datetime ``field`` falls on a day from ``start`` to ``end``, both included."""
    tz = timezone.get_current_timezone()
    if start:
        queryset = queryset.filter(**{f"{field}__gte": datetime.combine(start, time.min, tzinfo=tz)})
    if end:
        queryset = queryset.filter(**{f"{field}__lt": datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)})
    return queryset
