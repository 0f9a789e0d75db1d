"""accord worker: claim due jobs from the database and run them, until told to stop.

Run as many as you like against one PostgreSQL database; on SQLite run one.
"""

from __future__ import annotations

import os
import signal
import socket
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from accord.worker.queries import queue_status
from accord.worker.registry import discover_handlers
from accord.worker.services import job_run, jobs_claim, jobs_release, schedules_enqueue_due


class Command(BaseCommand):
    help = "Run background jobs (SLA timers, rescoring, digests, emails, webhook deliveries)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run the work that is due now, then exit.")
        parser.add_argument("--status", action="store_true", help="Print jobs by state and the oldest due job, then exit.")
        parser.add_argument("--batch", type=int, default=10, help="Jobs claimed at a time (default 10).")
        parser.add_argument("--poll", type=float, default=2.0, help="Seconds to wait when nothing is due (default 2).")
        parser.add_argument("--id", dest="worker_id", default="", help="Worker name shown on claimed jobs.")
        parser.add_argument(
            "--parent-pid", type=int, default=0,
            help="Stop once this process is no longer the worker's parent (set by `accord serve --with-worker`).",
        )

    def handle(self, *args, once, status, batch, poll, worker_id, parent_pid, **options):
        self.verbosity = options.get("verbosity", 1)
        if status:
            self.print_status()
            return
        worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        stop = threading.Event()

        def request_stop(signum, frame):
            if not stop.is_set():
                self.stderr.write(f"Stopping after the current job ({signal.Signals(signum).name}).")
            stop.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        handlers = discover_handlers()
        if not once:
            self.stdout.write(f"Worker {worker_id} running {len(handlers)} kinds of job; Ctrl-C stops it.")
        try:
            ran = self.work(worker_id=worker_id, batch=max(1, batch), poll=poll, once=once, stop=stop, parent_pid=parent_pid)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"Worker {worker_id} stopped after {ran} jobs.")

    def work(self, *, worker_id: str, batch: int, poll: float, once: bool, stop: threading.Event, parent_pid: int = 0) -> int:
        ran = 0
        while not stop.is_set():
            if parent_pid and os.getppid() != parent_pid:
                # The server that started this worker is gone (killed without a chance to stop
                # it): a worker left behind would keep the SQLite file busy for the next one.
                self.stderr.write(f"Stopping: the server (process {parent_pid}) that started this worker has gone.")
                break
            if not connection.in_atomic_block:  # (tests run the loop inside their transaction)
                close_old_connections()  # drop connections that broke or outlived CONN_MAX_AGE
            schedules_enqueue_due()
            claimed = jobs_claim(worker_id=worker_id, limit=batch)
            for index, job in enumerate(claimed):
                if stop.is_set():
                    jobs_release(jobs=claimed[index:])
                    break
                outcome = job_run(job=job)
                ran += 1
                if self.verbosity > 1:
                    self.stdout.write(f"{timezone.now():%H:%M:%S} {job.name} #{job.pk}: {outcome}")
            if not claimed:
                if once:
                    break
                stop.wait(poll)
        return ran

    def print_status(self) -> None:
        report = queue_status()
        for state, count in report.counts.items():
            self.stdout.write(f"{state:>8}: {count}")
        self.stdout.write(f"     due: {report.due}")
        if report.lapsed_leases:
            self.stdout.write(f"  lapsed: {report.lapsed_leases} running jobs whose worker stopped (they will be retried)")
        oldest = report.oldest_due
        if oldest is None:
            self.stdout.write("Nothing is waiting.")
        else:
            waited = timezone.now() - oldest.run_at
            self.stdout.write(
                f"Oldest due: {oldest.name} #{oldest.pk}, due {oldest.run_at:%Y-%m-%d %H:%M:%S} UTC "
                f"({int(waited.total_seconds())} s ago, attempt {oldest.attempts + 1} of {oldest.max_attempts})"
            )
