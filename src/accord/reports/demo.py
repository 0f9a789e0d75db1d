"""Demo data hook (called by ``accord demo`` after the record is loaded): agreed targets,
fresh snapshots and last month's digest to look at (not emailed)."""

from __future__ import annotations

from datetime import datetime

from accord.reports.digest import digest_build, digest_due_month
from accord.reports.models import Kpi
from accord.reports.services import kpi_target_set, snapshots_refresh

DEMO_TARGETS = {
    Kpi.MQLS: 120,
    Kpi.ACCEPTANCE_RATE: "0.35",
    Kpi.SLA_COMPLIANCE: "0.9",
    Kpi.SOURCED_PIPELINE: 250000,
    Kpi.SOURCED_REVENUE: 80000,
    Kpi.COST_PER_OPPORTUNITY: 1500,
    Kpi.WIN_RATE: "0.25",
}


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    for kpi, value in DEMO_TARGETS.items():
        kpi_target_set(kpi=kpi, value=value)
    run = snapshots_refresh()
    digest_build(month=digest_due_month(today=now.date()))
    stdout.write(
        f"reports: {len(DEMO_TARGETS)} KPI targets, snapshots over {run.counts.get('touchpoints', 0):,} touchpoints, "
        "last month's digest ready at /reports/digests/"
    )
