"""Enqueue, claim and run background jobs; record side effects that must happen once.

``job_enqueue`` writes the job in the caller's transaction: if the request rolls back, the
job is gone too, and once it commits the job cannot be lost. Workers call ``jobs_claim``
and ``job_run`` (see the ``accord worker`` command).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from accord.core.clock import now
from accord.worker.models import UNFINISHED, Effect, Job, JobStatus, Schedule
from accord.worker.registry import discover_handlers

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
MAX_ERROR_CHARS = 4000


def lease_duration() -> timedelta:
    return timedelta(seconds=getattr(settings, "ACCORD_WORKER_LEASE_SECONDS", 300))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try: base, 2×base, 4×base … capped."""
    base = getattr(settings, "ACCORD_WORKER_RETRY_BASE_SECONDS", 30)
    cap = getattr(settings, "ACCORD_WORKER_RETRY_MAX_SECONDS", 6 * 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _max_attempts_for(name: str) -> int:
    handler = discover_handlers().get(name)
    return handler.max_attempts if handler else DEFAULT_MAX_ATTEMPTS


def job_enqueue(
    *,
    name: str,
    payload: dict | None = None,
    run_at: datetime | None = None,
    dedupe_key: str = "",
    max_attempts: int | None = None,
) -> Job:
    """Queue one job. With a ``dedupe_key``, an unfinished job with that key is returned instead.

    Runs inside the caller's transaction (a savepoint guards the insert), so it is safe to
    call from a service in ``transaction.atomic()`` or from a ``transaction.on_commit`` hook.
    """
    if dedupe_key:
        existing = Job.objects.filter(dedupe_key=dedupe_key, status__in=UNFINISHED).first()
        if existing is not None:
            return existing
    job = Job(
        name=name,
        payload=payload or {},
        run_at=run_at or now(),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts or _max_attempts_for(name),
    )
    if not dedupe_key:
        job.save()
        return job
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # Another transaction queued the same key between our look and our insert.
        return Job.objects.get(dedupe_key=dedupe_key, status__in=UNFINISHED)
    return job


@dataclass(frozen=True)
class JobSpec:
    name: str
    payload: dict | None = None
    run_at: datetime | None = None
    dedupe_key: str = ""


def jobs_enqueue_many(*, jobs: list[JobSpec]) -> int:
    """Queue many jobs in one INSERT; jobs whose ``dedupe_key`` is already queued are skipped.

    Returns how many specs were given (the database does not report which were skipped).
    """
    moment = now()
    handlers = discover_handlers()
    rows = [
        Job(
            name=spec.name,
            payload=spec.payload or {},
            run_at=spec.run_at or moment,
            dedupe_key=spec.dedupe_key,
            max_attempts=handlers[spec.name].max_attempts if spec.name in handlers else DEFAULT_MAX_ATTEMPTS,
        )
        for spec in jobs
    ]
    Job.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


def _due(moment: datetime) -> Q:
    return Q(status=JobStatus.QUEUED, run_at__lte=moment) | Q(status=JobStatus.RUNNING, locked_until__lte=moment)


def jobs_claim(*, worker_id: str, limit: int = 10) -> list[Job]:
    """Atomically take up to ``limit`` due jobs (queued and due, or running with a lapsed lease).

    Two workers never claim the same job: PostgreSQL locks the chosen rows with
    ``FOR UPDATE SKIP LOCKED``; SQLite claims them in one conditional UPDATE. Each claim
    gets a fresh token and lease; ``attempts`` counts claims.
    """
    moment = now()
    token = secrets.token_hex(16)
    changes = dict(
        status=JobStatus.RUNNING,
        locked_by=worker_id[:100],
        locked_until=moment + lease_duration(),
        claim_token=token,
        attempts=F("attempts") + 1,
        started_at=moment,
    )
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                Job.objects.select_for_update(skip_locked=True)
                .filter(_due(moment))
                .order_by("run_at")
                .values_list("id", flat=True)[:limit]
            )
            if not ids:
                return []
            Job.objects.filter(id__in=ids).update(**changes)
    else:
        candidates = Job.objects.filter(_due(moment)).order_by("run_at").values("id")[:limit]
        # One statement: the due condition is checked again as the rows are written.
        claimed = Job.objects.filter(_due(moment), id__in=candidates).update(**changes)
        if not claimed:
            return []
    return list(Job.objects.filter(claim_token=token).order_by("run_at", "id"))


def _finish(job: Job, **changes) -> bool:
    """Write the outcome only if this claim still holds the job (its lease was not taken over)."""
    return bool(Job.objects.filter(pk=job.pk, claim_token=job.claim_token, status=JobStatus.RUNNING).update(**changes))


def job_run(*, job: Job) -> JobStatus:
    """Run a claimed job's handler, then mark it done, queue a retry with backoff, or fail it.

    The handler runs outside any transaction the worker holds: it opens its own where it
    needs one (keep HTTP calls and email out of long transactions).
    """
    handler = discover_handlers().get(job.name)
    if handler is None:
        _finish(job, status=JobStatus.FAILED, finished_at=now(), last_error=f"No job handler is named {job.name!r}.", locked_until=None)
        return JobStatus.FAILED
    if job.attempts > job.max_attempts:
        # Claimed again after its last allowed attempt lost its lease (the worker died).
        _finish(
            job,
            status=JobStatus.FAILED,
            finished_at=now(),
            locked_until=None,
            last_error=job.last_error or f"Gave up after {job.max_attempts} attempts (the worker running it stopped).",
        )
        return JobStatus.FAILED
    try:
        handler.function(dict(job.payload or {}))
    except Exception as error:  # noqa: BLE001 — any failure of a handler is recorded and retried
        message = "".join(traceback.format_exception(error))[-MAX_ERROR_CHARS:]
        logger.warning("job %s #%s failed (attempt %s of %s): %s", job.name, job.pk, job.attempts, job.max_attempts, error)
        if job.attempts >= job.max_attempts:
            _finish(job, status=JobStatus.FAILED, finished_at=now(), last_error=message, locked_until=None)
            return JobStatus.FAILED
        _finish(
            job,
            status=JobStatus.QUEUED,
            run_at=now() + retry_delay(job.attempts),
            last_error=message,
            locked_by="",
            locked_until=None,
            claim_token="",
        )
        return JobStatus.QUEUED
    _finish(job, status=JobStatus.DONE, finished_at=now(), locked_until=None)
    return JobStatus.DONE


def jobs_run_due(*, worker_id: str = "inline", limit: int = 50) -> int:
    """Claim and run every job due now until none is left; how many ran.

    What ``accord worker --once`` does minus the periodic schedules: handy in tests and scripts.
    Jobs retried with backoff are not due again, so this always ends.
    """
    ran = 0
    while claimed := jobs_claim(worker_id=worker_id, limit=limit):
        for job in claimed:
            job_run(job=job)
            ran += 1
    return ran


def jobs_release(*, jobs: list[Job]) -> int:
    """Hand claimed jobs that were not started back to the queue (a worker stopping early)."""
    if not jobs:
        return 0
    return Job.objects.filter(
        pk__in=[job.pk for job in jobs],
        claim_token__in={job.claim_token for job in jobs},
        status=JobStatus.RUNNING,
    ).update(status=JobStatus.QUEUED, attempts=F("attempts") - 1, locked_by="", locked_until=None, claim_token="")


def schedules_enqueue_due(*, moment: datetime | None = None) -> list[str]:
    """Queue each periodic handler whose time has come, once per period however many workers ask.

    Returns the names this call enqueued.
    """
    moment = moment or now()
    periodic = {name: h for name, h in discover_handlers().items() if h.every}
    if not periodic:
        return []
    known = dict(Schedule.objects.filter(name__in=periodic).values_list("name", "next_run_at"))
    missing = [Schedule(name=name, next_run_at=moment) for name in periodic if name not in known]
    if missing:
        Schedule.objects.bulk_create(missing, ignore_conflicts=True)
        known.update(Schedule.objects.filter(name__in=[s.name for s in missing]).values_list("name", "next_run_at"))
    enqueued = []
    for name, next_run_at in known.items():  # only the few periodic handlers
        if next_run_at > moment:
            continue
        every = periodic[name].every
        following = next_run_at + every
        if following <= moment:  # the worker was down for a while: do not replay missed runs
            following = moment + every
        with transaction.atomic():
            won = Schedule.objects.filter(name=name, next_run_at=next_run_at).update(
                next_run_at=following, last_enqueued_at=moment
            )
            if won:
                job_enqueue(name=name, payload={}, dedupe_key=f"schedule:{name}")
                enqueued.append(name)
    return enqueued


def effect_once(key: str) -> bool:
    """True the first time ``key`` is claimed, False ever after — across workers and retries.

    Call it inside the same ``transaction.atomic()`` as the writes that make up the effect
    (notification rows, queued emails, outbound events): if that transaction rolls back the
    key is free again, and a concurrent caller waits for the first to commit, then gets False.
    """
    if not key or len(key) > 255:
        raise ValueError("an effect key must be 1 to 255 characters")
    try:
        with transaction.atomic():
            Effect.objects.create(key=key)
    except IntegrityError:
        return False
    return True


def jobs_prune(*, older_than: timedelta) -> int:
    """Delete jobs that finished successfully before ``now - older_than``; failed ones are kept."""
    deleted, _ = Job.objects.filter(status=JobStatus.DONE, finished_at__lt=now() - older_than).delete()
    return deleted
