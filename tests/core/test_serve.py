"""`accord serve --with-worker` (what `make demo` runs): the web server with a background worker
beside it, both stopped together."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    """Process id → command line of the processes whose parent is ``pid``."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(status.parent.name)] = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    return found


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/login/")
        return connection.getresponse().status < 500
    except OSError:
        return False


def test_serve_with_worker_runs_a_worker_beside_the_server_and_stops_both(tmp_path):
    port = _free_port()
    env = {**os.environ, "ACCORD_DATA_DIR": str(tmp_path), "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db"}
    server = subprocess.Popen(
        [sys.executable, "-m", "accord.cli", "serve", "--with-worker", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _answers(port):
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "accord serve did not answer"
            time.sleep(0.2)
        workers = {pid: line for pid, line in _children(server.pid).items() if " worker " in f"{line} "}
        assert len(workers) == 1, workers
        (worker_pid, command), = workers.items()
        assert f"--parent-pid {server.pid}" in command
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode is not None
    assert "A background worker runs beside it" in output
    deadline = time.monotonic() + 30
    while _running(worker_pid):
        assert time.monotonic() < deadline, "the worker outlived the server"
        time.sleep(0.2)
