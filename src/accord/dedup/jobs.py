"""Background jobs of duplicate detection."""

from __future__ import annotations

from accord.dedup.services import scan_run
from accord.worker.registry import job_handler


@job_handler("dedup.scan", max_attempts=2)
def run_scan(payload: dict) -> None:
    """Scan the whole base (payload: {"scan_id": N}, or {} for a new scan); progress is kept on
    the Scan row. Idempotent: a scan already done is not run again."""
    scan_run(scan_id=payload.get("scan_id"), reason=payload.get("reason", "scheduled"))
