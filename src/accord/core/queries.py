"""Reads owned by core."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Max, QuerySet

from accord.core.clock import now
from accord.core.models import ApiToken, LoginAttempt

# One address guessing many usernames is stopped too, at a higher bar.
_PER_ADDRESS_FACTOR = 4


def login_lockout_seconds(*, username: str, ip_address: str) -> int:
    """Seconds until this username may try again from this address; 0 when not locked.

    Locked after LOGIN_ATTEMPT_LIMIT failures for the username from the address (or four
    times that many from the address for any usernames) inside LOGIN_ATTEMPT_WINDOW_SECONDS;
    the lock lasts one window from the last failure.
    """
    window = timedelta(seconds=settings.LOGIN_ATTEMPT_WINDOW_SECONDS)
    moment = now()
    recent = LoginAttempt.objects.filter(ip_address=ip_address[:45], attempted_at__gte=moment - window).order_by()
    limit = settings.LOGIN_ATTEMPT_LIMIT
    for attempts, bar in (
        (recent.filter(username=username.strip().lower()[:150]), limit),
        (recent, limit * _PER_ADDRESS_FACTOR),
    ):
        stats = attempts.aggregate(latest=Max("attempted_at"), count=Count("id"))
        if stats["count"] >= bar:
            return max(1, math.ceil((stats["latest"] + window - moment).total_seconds()))
    return 0


def api_tokens_of(user) -> QuerySet[ApiToken]:
    """A user's own tokens, live ones first; the only way pages reach a token."""
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")
