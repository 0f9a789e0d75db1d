from datetime import timedelta

from django.conf import settings

from accord.worker.registry import job_handler
from accord.worker.services import jobs_prune


@job_handler("worker.prune", every=timedelta(hours=6))
def prune_finished_jobs(payload: dict) -> None:
    """Forget successful jobs after a while; failed ones stay for someone to read."""
    jobs_prune(older_than=timedelta(days=getattr(settings, "ACCORD_WORKER_KEEP_DAYS", 7)))
