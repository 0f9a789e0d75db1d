"""A real ``accord worker`` process killed mid-delivery loses nothing (PostgreSQL: the test
database is shared with the subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone

from accord.notifications.models import DeliveryStatus, WebhookDelivery
from accord.notifications.services import event_emit, webhook_subscription_create
from accord.worker.models import Job, JobStatus
from tests.worker.conftest import postgres_only

from .conftest import run_due_jobs

pytestmark = [pytest.mark.postgres_only, postgres_only, pytest.mark.django_db(transaction=True)]


class HangingReceiver:
    """Answers nothing to the first POST until released; 200 to later ones."""

    def __init__(self):
        self.calls: list[str] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append(self.headers["X-Accord-Delivery"])
                if len(receiver.calls) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(20)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_worker_killed_mid_delivery_loses_nothing():
    receiver = HangingReceiver()
    try:
        webhook_subscription_create(url=receiver.url, kinds=[])
        event_emit(kind="handoff.breached", payload={"handoff": 5})
        settings_dict = connection.settings_dict
        url = (
            f"postgresql://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST'] or 'localhost'}"
            f":{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
        env = {**os.environ, "ACCORD_DATABASE_URL": url, "ACCORD_WORKER_LEASE_SECONDS": "1"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "accord.cli", "worker", "--poll", "0.2", "--id", "doomed"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            assert receiver.first_arrived.wait(30), worker.stderr.read1().decode() if worker.poll() is not None else "no call"
            job = Job.objects.get(name="notifications.deliver_webhook")
            assert job.status == JobStatus.RUNNING and job.locked_by == "doomed"
            worker.send_signal(signal.SIGKILL)  # no chance to clean up
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        receiver.release.set()

        while Job.objects.filter(pk=job.pk, locked_until__gt=timezone.now()).exists():
            time.sleep(0.1)  # the dead worker's one-second lease runs out
        run_due_jobs()

        job.refresh_from_db()
        delivery = WebhookDelivery.objects.get()
        assert job.status == JobStatus.DONE and job.attempts == 2
        assert delivery.status == DeliveryStatus.DELIVERED
        assert receiver.calls == [str(delivery.pk)] * 2  # the receiver dedupes on X-Accord-Delivery
    finally:
        receiver.close()
