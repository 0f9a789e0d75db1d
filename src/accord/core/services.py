"""Writes on core rows: API tokens, the replay record of idempotent requests, failed sign-ins."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import ApiToken, IdempotentRequest, LoginAttempt, User, hash_token

TOKEN_PREFIX = "acc_"
_PREFIX_LENGTH = 12  # what is stored in clear to tell tokens apart: "acc_" + 8 characters


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``. Returns the row and the raw token, which is never stored:
    show it once and forget it."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed.single("name", "is required")
    longest = ApiToken._meta.get_field("name").max_length
    if len(name) > longest:
        raise ValidationFailed.single("name", f"is longer than {longest} characters")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:_PREFIX_LENGTH], token_hash=hash_token(raw))
    return token, raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke a token; False when it already was. A revoked token never authenticates again."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now()
    token.save(update_fields=["revoked_at"])
    return True


class IdempotencyConflict(Exception):
    """The key was used before with a different request body."""


@dataclass(frozen=True)
class IdempotentResult:
    status_code: int
    body: dict
    replayed: bool


def request_fingerprint(payload: object) -> str:
    """A stable hash of a JSON-like request body (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_run(
    *, user: User, endpoint: str, key: str, fingerprint: str, run: Callable[[], tuple[int, dict]]
) -> IdempotentResult:
    """Run ``run`` once per (user, endpoint, key); later calls with the key replay its result.

    The record and the work commit together, so a failed run leaves no record and may be
    retried. Two requests racing with one key meet at the unique constraint: the loser waits
    for the winner's transaction (PostgreSQL) or the database lock (SQLite) and then replays
    what the winner stored. ValidationFailed from ``run`` is not recorded either; a retry
    of the same body is refused the same way and nothing is stored.
    """
    for _attempt in range(2):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(
                        user=user, endpoint=endpoint, key=key, request_hash=fingerprint
                    )
            except IntegrityError:
                record = IdempotentRequest.objects.filter(user=user, endpoint=endpoint, key=key).first()
                if record is None:  # the other request rolled back in between: try again
                    continue
                if record.request_hash != fingerprint:
                    raise IdempotencyConflict() from None
                return IdempotentResult(record.status_code, record.response_body, replayed=True)
            status_code, body = run()
            record.status_code = status_code
            record.response_body = body
            record.save(update_fields=["status_code", "response_body"])
            return IdempotentResult(status_code, body, replayed=False)
    raise IntegrityError("the idempotency record kept changing; retry the request")


def login_failure_record(*, username: str, ip_address: str) -> LoginAttempt:
    """Remember one failed sign-in, so repeated guessing gets locked out."""
    return LoginAttempt.objects.create(
        username=username.strip().lower()[:150], ip_address=ip_address[:45], attempted_at=now()
    )


def login_failures_clear(*, username: str, ip_address: str) -> None:
    """A successful sign-in forgives earlier mistakes from the same place."""
    LoginAttempt.objects.filter(username=username.strip().lower()[:150], ip_address=ip_address[:45]).delete()


def login_failures_prune() -> int:
    """Delete failed sign-ins older than the lockout window; returns how many went."""
    cutoff = now() - timedelta(seconds=settings.LOGIN_ATTEMPT_WINDOW_SECONDS)
    deleted, _ = LoginAttempt.objects.filter(attempted_at__lt=cutoff).delete()
    return deleted


# A retry comes within minutes or hours; after a week a key is forgotten and may be used again.
IDEMPOTENCY_KEEP = timedelta(days=7)


def idempotent_requests_prune(*, older_than: timedelta = IDEMPOTENCY_KEEP) -> int:
    """Forget idempotency records past their keeping time; returns how many were removed."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=now() - older_than).delete()
    return deleted
