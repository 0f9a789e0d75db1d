"""Background jobs of the reports app (run by ``accord worker``)."""

from __future__ import annotations

from datetime import timedelta

from accord.core.clock import now
from accord.reports.digest import digest_due_month, digest_send
from accord.reports.queries import parse_month
from accord.reports.services import snapshots_refresh
from accord.worker.registry import job_handler


@job_handler("reports.refresh", every=timedelta(hours=1))
def refresh_snapshots(payload: dict) -> None:
    """Rebuild the dashboard's snapshot tables; a rerun simply rebuilds them again."""
    snapshots_refresh(
        half_life_days=float(payload.get("half_life_days", 7.0)), markov_order=int(payload.get("markov_order", 1))
    )


@job_handler("reports.monthly_digest", every=timedelta(days=1))
def monthly_digest(payload: dict) -> None:
    """Checked daily; sends last month's digest the first time it runs in a new month and
    never again for that month (``digest_send`` is idempotent)."""
    month = payload.get("month")
    if month:
        digest_send(month=parse_month(month))
        return
    digest_send(month=digest_due_month(today=now().date()))
