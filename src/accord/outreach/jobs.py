"""Background work for outreach: deliver due sends in batches, every minute."""

from __future__ import annotations

from datetime import timedelta

from accord.outreach.services import sends_deliver_due
from accord.worker.registry import job_handler


@job_handler("outreach.deliver", every=timedelta(minutes=1))
def deliver_due_sends(payload: dict) -> None:
    # Idempotent: recipients are claimed with a conditional update and a sent one never
    # goes back to the queue, so a retried job finds that work done.
    sends_deliver_due()
