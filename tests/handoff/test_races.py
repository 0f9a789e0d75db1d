"""Races on PostgreSQL: two reps accepting one lead, two workers sweeping one clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from accord.core.errors import ValidationFailed
from accord.core.models import Role
from accord.crm.lifecycle import Stage
from accord.crm.models import StageChange
from accord.handoff.models import Handoff, HandoffEvent
from accord.handoff.services import handoff_accept, handoffs_open_for, handoffs_sweep
from tests.conftest import make_user
from tests.handoff.conftest import make_contact

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_together(*functions):
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects what each side got
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_reps_accepting_the_same_lead_exactly_one_wins(policy):
    ann, bob = make_user(Role.SALES, username="ann"), make_user(Role.SALES, username="bob")
    (handoff,) = handoffs_open_for(contacts=[make_contact(email="contested@x.test")])
    assert handoff.owner is None  # no routing rules: the team's shared queue

    for _ in range(5):  # several rounds make an accidental pass unlikely
        outcomes = run_together(
            lambda: handoff_accept(handoff=Handoff.objects.get(pk=handoff.pk), actor=ann),
            lambda: handoff_accept(handoff=Handoff.objects.get(pk=handoff.pk), actor=bob),
        )
        winners = [o for o in outcomes if isinstance(o, Handoff)]
        losers = [o for o in outcomes if isinstance(o, ValidationFailed)]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert "already accepted" in losers[0].errors["status"]
        handoff.refresh_from_db()
        assert handoff.owner == winners[0].closed_by
        assert StageChange.objects.filter(contact=handoff.contact, to_stage=Stage.SAL).count() == 1
        # Reopen for the next round.
        Handoff.objects.filter(pk=handoff.pk).update(status="open", owner=None, closed_by=None, closed_at=None)
        StageChange.objects.filter(contact=handoff.contact, to_stage=Stage.SAL).delete()
        handoff.contact.__class__.objects.filter(pk=handoff.contact_id).update(lifecycle_stage=Stage.MQL)


def test_two_workers_sweeping_at_once_never_send_a_notice_twice(policy, round_robin, monkeypatch):
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(*, recipients, kind, title, body="", url=""):
        with lock:
            sent.extend((kind, line) for line in body.splitlines())

    monkeypatch.setattr("accord.handoff.services.send_notice", record)
    handoffs = handoffs_open_for(contacts=[make_contact(email=f"w{i}@x.test") for i in range(300)])
    late = handoffs[0].opened_at + timedelta(days=2)
    first, second = run_together(
        lambda: handoffs_sweep(at=late, batch_size=20),
        lambda: handoffs_sweep(at=late, batch_size=20),
    )
    assert first.breached + second.breached == 300
    assert first.warned + second.warned == 300
    assert HandoffEvent.objects.filter(kind="breached").count() == 300
    owner_breaches = [line for kind, line in sent if kind == "handoff.breach" and "was due" in line]
    assert len(owner_breaches) == len(set(owner_breaches)) == 300
