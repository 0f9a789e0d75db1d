"""accord bench sla: the SLA sweep over 100,000 open handoffs of which 10,000 are due.

Figures:
- one sweep processing the due handoffs: seconds, and its ratio to a plain UPDATE of the
  same rows (the least work the database could do), measured in the same run;
- the number of queries that sweep issued (bounded by batches and recipients, not rows);
- two workers sweeping at once (PostgreSQL with --database-url; SQLite otherwise):
  throughput in handoffs per second and the number of duplicate notices (must be 0).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.bench import Figure, benchmark
from accord.bench.scratch import scratch_database

OPEN = 100_000
DUE = 10_000
REPS = 20
BATCH = 1000


def _populate(stdout, size: int, due: int, moment: datetime):
    from accord.core.models import Role, Team, User
    from accord.crm.models import Contact
    from accord.handoff.models import Handoff, RoutingMember, RoutingRule, SlaPolicy, WorkCalendar

    stdout.write(f"creating {size:,} open handoffs, {due:,} of them past due …")
    calendar = WorkCalendar.objects.create(
        name="Always", time_zone="UTC", working_hours={str(d): [["00:00", "24:00"]] for d in range(7)},
        created_at=moment, updated_at=moment,
    )
    policy = SlaPolicy.objects.create(
        name="Bench", calendar=calendar, target_hours=24, first_response_kinds=["call"], created_at=moment,
        updated_at=moment,
    )
    reps = User.objects.bulk_create(
        [User(username=f"rep{i}", email=f"rep{i}@bench.test", role=Role.SALES, team=Team.SALES, first_name=f"Rep{i}")
         for i in range(REPS)]
    )
    User.objects.create(username="boss", email="boss@bench.test", role=Role.MANAGER, team=Team.SALES)
    rule = RoutingRule.objects.create(name="All", kind="round_robin", created_at=moment, updated_at=moment)
    RoutingMember.objects.bulk_create([RoutingMember(rule=rule, user=rep) for rep in reps])
    chunk = 5000
    for start in range(0, size, chunk):
        contacts = Contact.objects.bulk_create(
            [Contact(email=f"lead{i}@bench.test", first_name=f"Lead{i}", lifecycle_stage="mql",
                     stage_changed_at=moment, created_at=moment, updated_at=moment)
             for i in range(start, min(start + chunk, size))]
        )
        handoffs = []
        for offset, contact in enumerate(contacts):
            index = start + offset
            opened = moment - timedelta(hours=30) if index < due else moment - timedelta(hours=1)
            handoffs.append(Handoff(
                contact=contact, policy=policy, owner=reps[index % REPS], opened_at=opened,
                warn_at=opened + timedelta(hours=18), due_at=opened + timedelta(hours=24),
                # Warnings for the overdue ones went out earlier; the sweep has breaches to send.
                warned_at=opened + timedelta(hours=18) if index < due else None,
            ))
        Handoff.objects.bulk_create(handoffs)
    return policy


def _make_due(count: int, moment: datetime) -> list[int]:
    """Push the next ``count`` not-yet-due handoffs past their due time (for the next round)."""
    from accord.handoff.models import Handoff

    ids = list(
        Handoff.objects.filter(breached=False, due_at__gt=moment).order_by("id").values_list("id", flat=True)[:count]
    )
    past = moment - timedelta(hours=30)
    Handoff.objects.filter(id__in=ids).update(
        opened_at=past, warn_at=past + timedelta(hours=18), warned_at=past + timedelta(hours=18),
        due_at=past + timedelta(hours=24),
    )
    return ids


def _duplicate_notices() -> tuple[int, int]:
    """(owner breach lines sent, how many of them repeat a handoff already noticed)."""
    from accord.notifications.models import Notification

    lines = Counter()
    for body in Notification.objects.filter(kind="handoff.breach", title__contains="your leads").values_list("body", flat=True).iterator():
        lines.update(line for line in body.splitlines() if "was due" in line)
    for body in Notification.objects.filter(kind="handoff.breach").exclude(title__contains="your leads").exclude(
        title__contains=" leads").values_list("body", flat=True).iterator():
        lines.update(line for line in body.splitlines() if "was due" in line)
    return sum(lines.values()), sum(n - 1 for n in lines.values() if n > 1)


@benchmark("sla")
def sla(*, stdout, size: int | None = None, database_url: str = "", **_) -> list[Figure]:
    from accord.handoff.models import Handoff, HandoffEvent
    from accord.handoff.services import handoffs_sweep

    size = size or OPEN
    due = max(1, size // 10)
    figures: list[Figure] = []
    with scratch_database(database_url, name="bench_sla") as vendor:
        is_pg = vendor == "postgresql"
        engine = "PostgreSQL" if is_pg else "SQLite"
        moment = datetime.now(UTC)
        _populate(stdout, size, due, moment)

        # Baseline: the bare UPDATE of the due rows, then undo it.
        stdout.write("baseline: one UPDATE marking the due rows breached …")
        began = time.perf_counter()
        Handoff.objects.filter(due_at__lte=moment, breached=False).update(breached=True, breached_at=moment)
        baseline = time.perf_counter() - began
        Handoff.objects.filter(breached=True).update(breached=False, breached_at=None)

        stdout.write(f"one sweep over {size:,} open handoffs, {due:,} due …")
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            result = handoffs_sweep(at=moment, batch_size=BATCH)
            elapsed = time.perf_counter() - began
        assert result.breached == due, result
        figures.append(Figure(
            target=f"one sweep: {due:,} due of {size:,} open ({engine})", figure=round(elapsed, 3), unit="s",
            limit=60.0, details={"breached": result.breached, "batches": result.batches, "batch_size": BATCH},
        ))
        figures.append(Figure(
            target="one sweep vs a bare UPDATE of the due rows", figure=round(elapsed / baseline, 1), unit="x",
            limit=None, details={"baseline_seconds": round(baseline, 3), "sweep_seconds": round(elapsed, 3)},
        ))
        figures.append(Figure(
            target=f"queries in one sweep ({due:,} due, {REPS} reps)", figure=len(queries), unit="q",
            limit=due / 5, details={"per_due_handoff": round(len(queries) / due, 3), "batches": result.batches},
        ))

        # Two workers at once on the next batch of due handoffs.
        _make_due(due, moment)
        stdout.write(f"two workers sweeping {due:,} due handoffs at once ({engine}) …")
        results: list = [None, None]
        barrier = threading.Barrier(2)

        def worker(index: int) -> None:
            try:
                barrier.wait()
                results[index] = handoffs_sweep(at=moment, batch_size=BATCH // 2)
            except Exception as error:  # noqa: BLE001 - reported below
                results[index] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        for outcome in results:
            if isinstance(outcome, Exception):
                raise outcome
        swept = sum(outcome.breached for outcome in results)
        sent, duplicates = _duplicate_notices()
        events = HandoffEvent.objects.filter(kind="breached").count()
        figures.append(Figure(
            target=f"two workers in parallel: throughput ({engine})", figure=round(swept / elapsed, 1), unit="h/s",
            limit=None, details={"swept": swept, "seconds": round(elapsed, 3),
                                 "per_worker": [outcome.breached for outcome in results]},
        ))
        figures.append(Figure(
            target=f"two workers in parallel: duplicate notices ({engine})", figure=duplicates, unit="n", limit=0,
            details={"owner_breach_notices": sent, "breach_events": events, "expected": 2 * due},
        ))
    return figures
