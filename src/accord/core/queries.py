"""Reads owned by core."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Max, QuerySet

from accord.core.clock import now
from accord.core.models import ApiToken, LoginAttempt, User

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


def token_owner(*, token_hash: str, used_before: datetime) -> tuple[User, int, bool] | None:
    """The active user who owns the unrevoked token with this hash, the token's id, and whether
    the token was last used before ``used_before`` (or never); None when there is no such token.

    One plain statement read into a User by ``raw`` (with the ORM's own converters): every API
    request authenticates, and building the filtered, joined queryset for it cost a
    millisecond, several times the statement itself.
    """
    quote = connection.ops.quote_name
    users, tokens = User._meta, ApiToken._meta
    columns = ", ".join(f"u.{quote(field.column)}" for field in users.concrete_fields)
    last_used = quote(tokens.get_field("last_used_at").column)
    sql = (
        f"SELECT {columns}, t.{quote('id')} AS api_token_id, "
        f"CASE WHEN t.{last_used} IS NULL OR t.{last_used} < %s THEN 1 ELSE 0 END AS api_token_stale "
        f"FROM {quote(tokens.db_table)} t JOIN {quote(users.db_table)} u ON u.{quote('id')} = t.{quote(tokens.get_field('user').column)} "
        f"WHERE t.{quote('token_hash')} = %s AND t.{quote('revoked_at')} IS NULL AND u.{quote('is_active')} = %s "
        f"ORDER BY t.{quote('id')} LIMIT 1"
    )
    params = [connection.ops.adapt_datetimefield_value(used_before), token_hash, True]
    for user in User.objects.raw(sql, params):
        token_id, stale = user.api_token_id, bool(user.api_token_stale)
        del user.api_token_id, user.api_token_stale
        return user, token_id, stale
    return None
