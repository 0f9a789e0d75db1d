"""A smoke run of `accord bench ingest` at a tiny size: it runs end to end and reports its figures.
Timings are never asserted."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.skipif(
    os.environ.get("ACCORD_DATABASE_URL", "").startswith("postgres"),
    reason="the benchmark makes its own temporary databases; the SQLite run covers it",
)


def test_the_ingest_benchmark_runs_at_a_tiny_size_and_reports_every_figure(tmp_path):
    out = StringIO()
    report = tmp_path / "figures.json"
    call_command("bench", "ingest", "--size", "40", "--seconds", "1", "--json", str(report), stdout=out)
    figures = {row["target"]: row for row in json.loads(report.read_text())}
    ratio = figures["bulk import 40 rows via pipeline vs plain insert (SQLite)"]
    assert ratio["unit"] == "x" and ratio["limit"] == 4 and ratio["figure"] > 0
    assert ratio["details"]["stored"] == {"contacts": 40, "accounts": 8, "touchpoints": 40, "rejected": 0}
    p50 = figures["POST /api/capture p50 latency (SQLite)"]
    assert p50["limit"] == 15 and p50["details"]["requests"] > 0 and p50["details"]["errors"] == 0
    assert "POST /api/capture throughput (SQLite)" in figures
    assert "met" in out.getvalue()


def test_the_benchmark_rows_are_all_different_people():
    # Every row must become a contact of its own, whatever the matcher folds together: no two
    # rows share a name, an email or a phone.
    from accord.bench.ingest import bench_rows

    rows = bench_rows(60_000)
    assert len({(row["first_name"], row["last_name"]) for row in rows}) == 60_000
    assert len({row["email"] for row in rows}) == 60_000
    assert len({row["phone"] for row in rows}) == 60_000
    assert len({row["company"] for row in rows}) == 12_000
