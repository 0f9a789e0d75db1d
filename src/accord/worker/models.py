"""The job queue lives in the database: no extra server, and many workers can share it.

A worker claims due jobs atomically (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
conditional UPDATE on SQLite) and holds each under a lease. A worker killed mid-job simply
lets its lease run out; the job is then due again and another worker takes it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accord.core.clock import now


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # When a queued job becomes due (retries push it into the future).
    run_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    locked_by = models.CharField(max_length=100, blank=True)
    # The lease: a running job whose lease has passed is due again.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Names one claim, so only the claim holding the lease may finish the job.
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    # At most one unfinished job per non-empty key (see the constraint below).
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The claim query's two halves: queued jobs by due time, running jobs by lease end.
            models.Index(fields=["run_at"], condition=Q(status="queued"), name="job_queued_due"),
            models.Index(fields=["locked_until"], condition=Q(status="running"), name="job_running_lease"),
            models.Index(fields=["status", "finished_at"], name="job_status_finished"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(dedupe_key=""),
                name="job_dedupe_key_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class Schedule(models.Model):
    """When a periodic handler (``@job_handler(..., every=...)``) is next enqueued.

    Workers advance ``next_run_at`` with a conditional UPDATE; only the one whose UPDATE
    matched enqueues the job, so N workers enqueue it once per period.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M}"


class Effect(models.Model):
    """A side effect that happened once (a notice sent, say), recorded under a unique key."""

    key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.key
