"""Background upkeep owned by core."""

from __future__ import annotations

from datetime import timedelta

from accord.core.services import idempotent_requests_prune, login_failures_prune
from accord.worker.registry import job_handler


@job_handler("core.prune_login_attempts", every=timedelta(hours=6))
def prune_login_attempts(payload: dict) -> int:
    """Failed sign-ins older than the lockout window no longer count; drop them."""
    return login_failures_prune()


@job_handler("core.idempotency_prune", every=timedelta(hours=6))
def prune_idempotency_records(payload: dict) -> int:
    return idempotent_requests_prune()
