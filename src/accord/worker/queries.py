from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from accord.core.clock import now
from accord.worker.models import Job, JobStatus


@dataclass(frozen=True)
class QueueStatus:
    counts: dict[str, int]
    due: int
    oldest_due: Job | None
    lapsed_leases: int


def queue_status() -> QueueStatus:
    """Jobs by state, how many are due now, the longest-waiting due job, and lapsed leases."""
    moment = now()
    counts = {status.value: 0 for status in JobStatus}
    counts.update(dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by()))
    due = Job.objects.filter(status=JobStatus.QUEUED, run_at__lte=moment)
    return QueueStatus(
        counts=counts,
        due=due.count(),
        oldest_due=due.order_by("run_at").first(),
        lapsed_leases=Job.objects.filter(status=JobStatus.RUNNING, locked_until__lte=moment).count(),
    )
