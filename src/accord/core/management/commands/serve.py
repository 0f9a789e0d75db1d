"""accord serve: the production WSGI server (gunicorn) on 127.0.0.1:8000 by default, and with
``--with-worker`` one background worker beside it (what ``make demo`` runs)."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Accord with gunicorn (static files are served by WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--with-worker", action="store_true",
            help="Also run one `accord worker` (background jobs: scans, timers, sends), stopped with the server.",
        )

    def handle(self, *args, bind, workers, threads, with_worker, **options):
        from gunicorn.app.base import BaseApplication

        from accord.wsgi import application

        call_command("migrate", interactive=False, verbosity=0)

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("accesslog", "-")
                self.cfg.set("worker_class", "gthread")

            def load(self):
                return application

        self.stdout.write(f"Accord is serving http://{bind}/ (data in {settings.DATA_DIR}); Ctrl-C stops it.")
        worker = None
        if with_worker:
            # Its own process (the server's workers are forked; a thread would not survive that),
            # with the same settings from the environment.
            worker = subprocess.Popen(
                [sys.executable, "-m", "accord.cli", "worker", "--parent-pid", str(os.getpid())]
            )
            self.stdout.write(f"A background worker runs beside it (process {worker.pid}).")
        try:
            Server().run()
        finally:
            if worker is not None:
                worker.terminate()  # SIGTERM: it finishes the job in hand and hands back the rest
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
