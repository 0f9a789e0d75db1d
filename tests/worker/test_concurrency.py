"""Several workers at once on PostgreSQL: real threads, each on its own connection."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accord.worker.models import Effect, Job, JobStatus
from accord.worker.services import (
    JobSpec,
    effect_once,
    job_enqueue,
    job_run,
    jobs_claim,
    jobs_enqueue_many,
    schedules_enqueue_due,
)

from .conftest import postgres_only

pytestmark = [pytest.mark.postgres_only, postgres_only, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, target) -> list:
    """Start ``count`` threads together (a barrier), each calling target(index); their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def body(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def test_two_workers_claiming_at_once_never_take_the_same_job(register):
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    def record(payload):
        with lock:
            ran.append(payload["n"])

    register("test.record", record)
    jobs_enqueue_many(jobs=[JobSpec(name="test.record", payload={"n": n}) for n in range(120)])

    def work(index):
        claimed_ids = []
        while batch := jobs_claim(worker_id=f"w{index}", limit=7):
            for job in batch:
                claimed_ids.append(job.pk)
                job_run(job=job)
        return claimed_ids

    first, second = run_in_threads(2, work)
    assert not set(first) & set(second)
    assert len(first) + len(second) == 120
    assert sorted(ran) == list(range(120))  # every job ran exactly once
    assert Job.objects.filter(name="test.record", status=JobStatus.DONE).count() == 120


def test_an_effect_raced_by_four_workers_happens_once():
    def attempt(index):
        with transaction.atomic():
            won = effect_once("handoff:42:breach-notice")
            time.sleep(0.05)  # hold the transaction open while the others try
            return won

    results = run_in_threads(4, attempt)
    assert sorted(results) == [False, False, False, True]
    assert Effect.objects.filter(key="handoff:42:breach-notice").count() == 1


def test_many_workers_enqueue_a_periodic_job_once_per_period(register):
    register("test.tick", lambda payload: None, every=timedelta(minutes=10))
    moment = timezone.now()
    schedules_enqueue_due(moment=moment - timedelta(minutes=10))  # create the schedule, due at `moment`
    Job.objects.filter(name="test.tick").delete()

    results = run_in_threads(4, lambda index: "test.tick" in schedules_enqueue_due(moment=moment))

    assert sorted(results) == [False, False, False, True]
    assert Job.objects.filter(name="test.tick").count() == 1


def test_the_same_dedupe_key_enqueued_by_racing_requests_makes_one_job():
    def enqueue(index):
        with transaction.atomic():
            job = job_enqueue(name="test.noop", dedupe_key="contact:9:rescore")
            time.sleep(0.05)
            return job.pk

    ids = run_in_threads(4, enqueue)
    assert len(set(ids)) == 1
    assert Job.objects.filter(dedupe_key="contact:9:rescore").count() == 1
