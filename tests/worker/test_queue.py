from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accord.worker.models import Effect, Job, JobStatus, Schedule
from accord.worker.services import (
    effect_once,
    job_enqueue,
    job_run,
    jobs_claim,
    jobs_release,
    retry_delay,
    schedules_enqueue_due,
)

pytestmark = pytest.mark.django_db


def test_an_enqueued_job_is_claimed_run_and_marked_done(register):
    seen = []
    register("test.record", seen.append)
    job = job_enqueue(name="test.record", payload={"n": 1})

    claimed = jobs_claim(worker_id="w1", limit=5)

    assert [j.pk for j in claimed] == [job.pk]
    assert claimed[0].status == JobStatus.RUNNING and claimed[0].attempts == 1 and claimed[0].locked_by == "w1"
    assert job_run(job=claimed[0]) == JobStatus.DONE
    job.refresh_from_db()
    assert seen == [{"n": 1}]
    assert job.status == JobStatus.DONE and job.finished_at is not None and job.locked_until is None


def test_it_does_not_claim_jobs_before_they_are_due(register):
    register("test.noop", lambda payload: None)
    job_enqueue(name="test.noop", run_at=timezone.now() + timedelta(minutes=5))

    assert jobs_claim(worker_id="w1", limit=5) == []


def test_a_job_under_a_live_lease_is_not_claimed_twice(register):
    register("test.noop", lambda payload: None)
    job_enqueue(name="test.noop")

    first = jobs_claim(worker_id="w1", limit=5)
    second = jobs_claim(worker_id="w2", limit=5)

    assert len(first) == 1 and second == []


def test_the_job_of_a_worker_that_died_is_reclaimed_when_its_lease_runs_out(register):
    seen = []
    register("test.record", seen.append)
    job = job_enqueue(name="test.record", payload={"n": 7})
    [dead_claim] = jobs_claim(worker_id="dead", limit=1)
    # The worker was killed mid-job: nothing finishes the job, and its lease lapses.
    Job.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    [retaken] = jobs_claim(worker_id="alive", limit=1)
    assert retaken.pk == job.pk and retaken.attempts == 2 and retaken.locked_by == "alive"
    assert job_run(job=retaken) == JobStatus.DONE
    # The dead worker's late outcome (had it come back) is ignored: it no longer holds the claim.
    assert job_run(job=dead_claim) == JobStatus.DONE
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.locked_by == "alive"
    assert seen == [{"n": 7}, {"n": 7}]


def test_a_failing_job_is_retried_with_exponential_backoff_then_failed_keeping_the_error(register, settings):
    settings.ACCORD_WORKER_RETRY_BASE_SECONDS = 10

    def explode(payload):
        raise RuntimeError("receiver is down")

    register("test.explode", explode, max_attempts=3)
    job = job_enqueue(name="test.explode")
    assert job.max_attempts == 3
    delays = []
    for attempt in (1, 2):
        [claimed] = jobs_claim(worker_id="w", limit=1)
        before = timezone.now()
        assert job_run(job=claimed) == JobStatus.QUEUED
        job.refresh_from_db()
        assert job.attempts == attempt and "receiver is down" in job.last_error
        delays.append(job.run_at - before)
        assert jobs_claim(worker_id="w", limit=1) == []  # not due until the backoff passes
        Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    assert timedelta(seconds=9) < delays[0] <= timedelta(seconds=11)
    assert timedelta(seconds=19) < delays[1] <= timedelta(seconds=21)

    [claimed] = jobs_claim(worker_id="w", limit=1)
    assert job_run(job=claimed) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 3 and "RuntimeError: receiver is down" in job.last_error
    assert jobs_claim(worker_id="w", limit=1) == []


def test_backoff_doubles_and_is_capped(settings):
    settings.ACCORD_WORKER_RETRY_BASE_SECONDS = 30
    settings.ACCORD_WORKER_RETRY_MAX_SECONDS = 100
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_job_whose_last_attempt_was_lost_with_its_worker_is_failed_not_run_again(register):
    seen = []
    register("test.record", seen.append, max_attempts=1)
    job = job_enqueue(name="test.record")
    jobs_claim(worker_id="dead", limit=1)
    Job.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    [retaken] = jobs_claim(worker_id="alive", limit=1)
    assert job_run(job=retaken) == JobStatus.FAILED
    job.refresh_from_db()
    assert seen == [] and job.status == JobStatus.FAILED and "stopped" in job.last_error


def test_an_unknown_job_name_fails_with_a_clear_error():
    job = job_enqueue(name="nobody.handles.this")
    [claimed] = jobs_claim(worker_id="w", limit=1)
    assert job_run(job=claimed) == JobStatus.FAILED
    job.refresh_from_db()
    assert "No job handler is named 'nobody.handles.this'" in job.last_error


def test_a_dedupe_key_keeps_one_unfinished_job_and_allows_a_new_one_after_it_finishes(register):
    register("test.noop", lambda payload: None)
    first = job_enqueue(name="test.noop", dedupe_key="contact:1:rescore")
    again = job_enqueue(name="test.noop", dedupe_key="contact:1:rescore")
    other = job_enqueue(name="test.noop", dedupe_key="contact:2:rescore")
    assert again.pk == first.pk and other.pk != first.pk

    for claimed in jobs_claim(worker_id="w", limit=5):
        job_run(job=claimed)
    later = job_enqueue(name="test.noop", dedupe_key="contact:1:rescore")
    assert later.pk != first.pk and later.status == JobStatus.QUEUED
    assert Job.objects.filter(dedupe_key="contact:1:rescore").count() == 2


def test_released_jobs_go_back_to_the_queue_without_using_an_attempt(register):
    register("test.noop", lambda payload: None)
    for _ in range(3):
        job_enqueue(name="test.noop")
    claimed = jobs_claim(worker_id="w", limit=3)

    assert jobs_release(jobs=claimed[1:]) == 2
    statuses = sorted(Job.objects.values_list("status", "attempts"))
    assert statuses == [("queued", 0), ("queued", 0), ("running", 1)]


def test_a_periodic_handler_is_enqueued_once_per_period(register):
    register("test.tick", lambda payload: None, every=timedelta(hours=1))
    start = timezone.now()

    assert "test.tick" in schedules_enqueue_due(moment=start)
    assert "test.tick" not in schedules_enqueue_due(moment=start)
    assert "test.tick" not in schedules_enqueue_due(moment=start + timedelta(minutes=59))
    assert Job.objects.filter(name="test.tick").count() == 1
    assert Schedule.objects.get(name="test.tick").next_run_at == start + timedelta(hours=1)

    assert "test.tick" in schedules_enqueue_due(moment=start + timedelta(hours=1))
    # The first run never happened, so the second is folded into it rather than piling up.
    assert Job.objects.filter(name="test.tick", status=JobStatus.QUEUED).count() == 1


def test_a_periodic_handler_does_not_replay_the_periods_missed_while_no_worker_ran(register):
    register("test.tick", lambda payload: None, every=timedelta(hours=1))
    start = timezone.now()
    schedules_enqueue_due(moment=start)
    Job.objects.filter(name="test.tick").update(status=JobStatus.DONE)

    assert "test.tick" in schedules_enqueue_due(moment=start + timedelta(hours=10, minutes=5))
    assert "test.tick" not in schedules_enqueue_due(moment=start + timedelta(hours=10, minutes=6))
    assert Schedule.objects.get(name="test.tick").next_run_at == start + timedelta(hours=11, minutes=5)


def test_an_effect_happens_once_per_key():
    assert effect_once("handoff:1:breach") is True
    assert effect_once("handoff:1:breach") is False
    assert effect_once("handoff:2:breach") is True
    assert Effect.objects.count() == 2


def test_a_rolled_back_effect_frees_its_key_for_the_next_worker():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            assert effect_once("digest:2026-11") is True
            raise Boom
    assert effect_once("digest:2026-11") is True


def test_worker_once_runs_the_due_jobs_and_exits(register):
    seen = []
    register("test.record", seen.append)
    job_enqueue(name="test.record", payload={"n": 1})
    job_enqueue(name="test.record", payload={"n": 2})
    job_enqueue(name="test.record", payload={"n": 3}, run_at=timezone.now() + timedelta(hours=1))
    out = StringIO()

    call_command("worker", "--once", "--batch", "1", stdout=out)

    assert sorted(p["n"] for p in seen) == [1, 2]
    assert "stopped after" in out.getvalue()
    assert Job.objects.filter(name="test.record", status=JobStatus.QUEUED).count() == 1


def test_worker_status_prints_counts_and_the_oldest_due_job(register):
    register("test.noop", lambda payload: None)
    old = job_enqueue(name="test.noop", run_at=timezone.now() - timedelta(minutes=10))
    job_enqueue(name="test.noop")
    out = StringIO()

    call_command("worker", "--status", stdout=out)

    text = out.getvalue()
    assert "queued: 2" in text and "due: 2" in text and "done: 0" in text
    assert f"Oldest due: test.noop #{old.pk}" in text


def test_worker_stops_gracefully_on_sigterm_and_hands_back_unstarted_jobs(register):
    import os
    import signal

    seen = []

    def terminate_me(payload):
        seen.append(payload["n"])
        os.kill(os.getpid(), signal.SIGTERM)

    register("test.terminate", terminate_me)
    for n in range(3):
        job_enqueue(name="test.terminate", payload={"n": n})
    out, err = StringIO(), StringIO()

    call_command("worker", "--batch", "3", "--poll", "0.01", stdout=out, stderr=err)

    assert len(seen) == 1  # the current job finished, then the worker stopped
    assert "SIGTERM" in err.getvalue()
    assert sorted(Job.objects.filter(name="test.terminate").values_list("status", flat=True)) == ["done", "queued", "queued"]


def test_a_worker_started_by_a_server_stops_once_that_server_is_gone(register):
    import os

    seen = []
    register("test.noop", lambda payload: seen.append(payload["n"]))
    job_enqueue(name="test.noop", payload={"n": 1})
    out, err = StringIO(), StringIO()

    # Its parent is still the process that started it: it works as usual.
    call_command("worker", "--once", "--parent-pid", str(os.getppid()), stdout=out, stderr=err)
    assert seen == [1]

    # Started by a process that is no longer its parent (killed; the worker was re-parented):
    # it stops at once instead of running on, unattended, beside the next server.
    job_enqueue(name="test.noop", payload={"n": 2})
    call_command("worker", "--poll", "0.01", "--parent-pid", str(os.getppid() + 100_000), stdout=out, stderr=err)
    assert seen == [1]
    assert "has gone" in err.getvalue()
