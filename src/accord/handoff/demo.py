"""Demo data for the handoff: a calendar, policies on both sides, routing rules, and handoffs
in every state (open and on time, warned, breached, accepted, rejected, recycled)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from accord.core.clock import now
from accord.core.models import Role, User
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact
from accord.handoff.models import Handoff, RejectReason
from accord.handoff.services import (
    handoff_accept,
    handoff_log_attempt,
    handoff_recycle,
    handoff_reject,
    handoffs_open_for,
    handoffs_sweep,
    routing_rule_save,
    sla_policy_save,
    work_calendar_save,
)

DEMO_HANDOFFS = 240


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    rng = random.Random(seed)
    manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    reps = list(User.objects.filter(role=Role.SALES, is_active=True).order_by("pk"))
    year = now.year
    office = work_calendar_save(values={
        "name": "Office hours (Berlin)", "time_zone": "Europe/Berlin",
        "working_hours": {str(day): [["09:00", "17:00"]] for day in range(5)},
        "holidays": [
            {"start": f"{year}-12-24", "end": f"{year}-12-26", "name": "Christmas"},
            {"start": f"{year}-12-31", "end": f"{year + 1}-01-01", "name": "New Year"},
        ],
    })
    sla_policy_save(values={"name": "Hot leads (grade A)", "grades": ["A"], "calendar": office, "target_hours": 4,
                            "position": 10, "warn_at_percent": 50, "reassign_on_breach": True}, actor=manager)
    sla_policy_save(values={"name": "Every MQL: 24 business hours", "calendar": office, "target_hours": 24,
                            "position": 100, "followup_attempts": 3, "followup_days": 5}, actor=manager)
    sla_policy_save(values={"name": "Marketing: MQLs per month", "kind": "commitment", "mql_volume_target": 60,
                            "acceptance_rate_target": 60}, actor=manager)
    if reps:
        routing_rule_save(values={"name": "Account owner keeps the account", "kind": "account_owner", "position": 1})
        routing_rule_save(values={"name": "DACH territory", "kind": "territory", "countries": ["DE", "AT", "CH"],
                                  "position": 10}, members=[(reps[-1].pk, 1)])
        routing_rule_save(values={"name": "Everyone else", "kind": "round_robin", "position": 90},
                          members=[(rep.pk, 2 if index == 0 else 1) for index, rep in enumerate(reps)])

    mqls = list(
        Contact.objects.filter(lifecycle_stage=Stage.MQL).exclude(handoffs__isnull=False).order_by("pk")[:DEMO_HANDOFFS]
    )
    rng.shuffle(mqls)
    opened = 0
    # Older handoffs first: a spread over the last 90 days, then today's queue.
    chunks = [mqls[i : i + 20] for i in range(0, len(mqls), 20)]
    for index, chunk in enumerate(chunks):
        days_ago = 0 if index >= len(chunks) - 2 else rng.randint(2, 90)
        at = now - timedelta(days=days_ago, hours=rng.randint(0, 8))
        handoffs = handoffs_open_for(contacts=chunk, at=at)
        opened += len(handoffs)
        if days_ago:
            _work(handoffs, rng=rng, manager=manager)
    result = handoffs_sweep(at=now)
    stdout.write(f"    {opened} handoffs ({result.warned} warned, {result.breached} breached just now)")


def _work(handoffs: list[Handoff], *, rng: random.Random, manager) -> None:
    reasons = list(RejectReason.values)
    for handoff in handoffs:
        actor = handoff.owner or manager
        if actor is None:
            continue
        roll = rng.random()
        if roll < 0.15:
            continue  # left untouched: breached by the sweep
        late = roll > 0.75
        hours = rng.uniform(26, 60) if late else rng.uniform(0.5, 20)
        called = min(handoff.opened_at + timedelta(hours=hours), now() - timedelta(minutes=5))
        handoff_log_attempt(handoff=handoff, actor=actor, at=called, note="first call")
        outcome = rng.random()
        if outcome < 0.6:
            handoff_accept(handoff=handoff, actor=actor, note="qualified on the call")
        elif outcome < 0.85:
            handoff_reject(handoff=handoff, actor=actor, reason=rng.choice(reasons), note="from the first call")
        else:
            handoff_recycle(handoff=handoff, actor=actor, reason="interested, budget next quarter",
                            reentry_on=(handoff.opened_at + timedelta(days=120)).date())
