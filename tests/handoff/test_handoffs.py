"""Handing leads to Sales: policies, opening, the rep's actions, recycling and re-entry, the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from accord.campaigns.models import Touchpoint
from accord.core.business_time import add_business_hours
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Role
from accord.crm.lifecycle import Stage
from accord.crm.models import StageChange
from accord.crm.services import contact_change_stage
from accord.handoff.models import Handoff, HandoffEvent, HandoffStatus
from accord.handoff.services import (
    handoff_accept,
    handoff_log_attempt,
    handoff_recycle,
    handoff_reject,
    handoffs_open_for,
    handoffs_open_pending,
    handoffs_reenter,
    handoffs_sweep,
    sla_policy_save,
    work_calendar_save,
)
from tests.conftest import make_user
from tests.handoff.conftest import make_contact


def open_one(email="lead@x.test", **fields) -> Handoff:
    (handoff,) = handoffs_open_for(contacts=[make_contact(email=email, **fields)])
    return handoff


# --- policies ---------------------------------------------------------------------------------


def test_the_first_matching_policy_sets_the_due_time_in_business_hours(policy, round_robin, manager):
    weekdays = work_calendar_save(values={"name": "Office", "time_zone": "Europe/Berlin",
                                          "working_hours": {d: [["09:00", "17:00"]] for d in range(5)}})
    sla_policy_save(values={"name": "Hot A leads", "grades": ["a"], "calendar": weekdays.pk, "target_hours": 4,
                            "position": 1}, actor=manager)
    hot = open_one("hot@x.test", grade="A")
    normal = open_one("normal@x.test", grade="C")
    assert hot.policy.name == "Hot A leads" and normal.policy == policy
    assert normal.due_at - normal.opened_at == timedelta(hours=24)  # the always-open calendar
    assert hot.due_at == add_business_hours(hot.opened_at, 4, weekdays.as_calendar())


def test_policy_criteria_match_on_score_source_country_and_segment(always_open, manager, round_robin):
    sla_policy_save(values={"name": "Enterprise webinar", "min_score": 50, "sources": ["webinar"], "countries": ["us"],
                            "segments": ["enterprise"], "calendar": always_open, "target_hours": 8}, actor=manager)
    from tests.handoff.conftest import make_account
    big = make_account("Big", employee_count=2000, country="US")
    match = open_one("m@x.test", score=80, first_touch_channel="webinar", account=big)
    miss = open_one("n@x.test", score=20, first_touch_channel="webinar", account=big)
    assert match.policy.name == "Enterprise webinar"
    assert miss.policy is None and miss.due_at is None


@pytest.mark.parametrize(
    "values,field,expected",
    [
        ({"min_score": 80, "max_score": 20}, "max_score", "matches nothing"),
        ({"stages": ["sal"]}, "stages", "matches nothing"),
        ({"target_hours": 0}, "target_hours", "between 0.25 and 2000"),
        ({"calendar": None}, "calendar", "choose the working calendar"),
        ({"sources": ["carrier_pigeon"]}, "sources", "not a channel"),
        ({"segments": ["huge"]}, "segments", "not a segment"),
        ({"followup_attempts": 3, "followup_days": 0}, "followup_days", "within how many days"),
        ({"first_response_kinds": ["page_visit"]}, "first_response_kinds", "cannot be a response"),
    ],
)
def test_it_refuses_contradictory_policies_naming_the_field(always_open, manager, values, field, expected):
    with pytest.raises(ValidationFailed) as refused:
        sla_policy_save(values={"name": "P", "calendar": always_open, "target_hours": 24, **values}, actor=manager)
    assert expected in refused.value.errors[field]


def test_it_warns_when_a_policy_matches_no_contact_today(always_open, manager):
    saved = sla_policy_save(values={"name": "Iceland", "countries": ["IS"], "calendar": always_open,
                                    "target_hours": 24}, actor=manager)
    assert saved.policy.pk and "match no contact" in saved.warnings[0]


def test_marketing_commitments_are_policies_too(db, marketer):
    saved = sla_policy_save(values={"name": "Monthly MQLs", "kind": "commitment", "mql_volume_target": 200,
                                    "acceptance_rate_target": 60}, actor=marketer)
    assert saved.policy.team == "marketing" and saved.policy.calendar is None
    with pytest.raises(ValidationFailed) as refused:
        sla_policy_save(values={"name": "Empty promise", "kind": "commitment"}, actor=marketer)
    assert "volume or an acceptance rate" in refused.value.errors["mql_volume_target"]


# --- opening ----------------------------------------------------------------------------------


def test_opening_is_idempotent_one_open_handoff_per_contact(policy, round_robin):
    contact = make_contact(email="once@x.test")
    assert len(handoffs_open_for(contacts=[contact])) == 1
    assert handoffs_open_for(contacts=[contact]) == []
    assert Handoff.objects.filter(contact=contact).count() == 1
    contact.refresh_from_db()
    assert contact.owner is not None


def test_only_mqls_are_handed_over(policy, round_robin):
    assert handoffs_open_for(contacts=[make_contact(email="cold@x.test", stage=Stage.LEAD)]) == []


def test_the_periodic_job_catches_manual_moves_to_mql(policy, round_robin, rep):
    contact = make_contact(email="manual@x.test", stage=Stage.LEAD)
    contact_change_stage(contact=contact, to_stage=Stage.MQL, actor=rep)
    assert handoffs_open_pending() == 1
    assert handoffs_open_pending() == 0
    assert Handoff.objects.get(contact=contact).is_open


def test_opening_a_batch_takes_the_same_queries_for_10_or_50_leads(policy, round_robin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, prefix in ((10, "a"), (50, "b")):
        contacts = [make_contact(email=f"{prefix}{i}@x.test") for i in range(size)]
        with CaptureQueriesContext(connection) as queries:
            assert len(handoffs_open_for(contacts=contacts)) == size
        counts.append(len(queries))
    # A fixed number plus one notice per rep (three here); SQLite may split a bulk insert in two.
    assert counts[1] - counts[0] <= 1 and counts[1] <= 45


# --- the rep's actions ------------------------------------------------------------------------


def test_logging_a_call_is_the_first_response_and_an_attempt(policy, round_robin):
    handoff = open_one()
    touchpoint = handoff_log_attempt(handoff=handoff, actor=handoff.owner, note="left a voicemail")
    handoff_log_attempt(handoff=handoff, actor=handoff.owner, kind="sales_email")
    handoff.refresh_from_db()
    assert handoff.attempts == 2
    assert handoff.first_response_at == touchpoint.occurred_at
    assert touchpoint.kind == "call" and touchpoint.team == "sales"


def test_accept_moves_the_contact_to_sal(policy, round_robin):
    handoff = open_one()
    handoff_accept(handoff=handoff, actor=handoff.owner)
    handoff.contact.refresh_from_db()
    assert handoff.status == HandoffStatus.ACCEPTED and handoff.contact.lifecycle_stage == Stage.SAL
    change = StageChange.objects.filter(contact=handoff.contact).first()
    assert change.source == "handoff" and change.to_stage == Stage.SAL


def test_a_second_accept_is_refused_naming_who_won(policy, round_robin, manager):
    handoff = open_one()
    handoff_accept(handoff=handoff, actor=handoff.owner)
    stale = Handoff.objects.get(pk=handoff.pk)
    stale.status = HandoffStatus.OPEN  # what a second browser tab still shows
    with pytest.raises(ValidationFailed) as refused:
        handoff_accept(handoff=stale, actor=manager)
    assert "already accepted by" in refused.value.errors["status"]


def test_another_rep_may_not_work_someone_elses_lead(policy, round_robin, reps, marketer):
    handoff = open_one()
    other = next(rep for rep in reps if rep != handoff.owner)
    with pytest.raises(PermissionDenied):
        handoff_accept(handoff=handoff, actor=other)
    with pytest.raises(PermissionDenied):
        handoff_log_attempt(handoff=handoff, actor=marketer)


def test_it_refuses_a_reject_without_a_reason(policy, round_robin):
    handoff = open_one()
    with pytest.raises(ValidationFailed) as refused:
        handoff_reject(handoff=handoff, actor=handoff.owner, reason="")
    assert "say why" in refused.value.errors["reason"]
    with pytest.raises(ValidationFailed):
        handoff_reject(handoff=handoff, actor=handoff.owner, reason="smells")
    assert Handoff.objects.get(pk=handoff.pk).is_open


def test_a_bad_fit_is_disqualified_a_not_ready_lead_is_recycled(policy, round_robin):
    bad = open_one("bad@x.test")
    later = open_one("later@x.test")
    handoff_reject(handoff=bad, actor=bad.owner, reason="bad_fit", note="two-person agency")
    handoff_reject(handoff=later, actor=later.owner, reason="not_ready")
    bad.contact.refresh_from_db()
    later.contact.refresh_from_db()
    assert bad.contact.lifecycle_stage == Stage.DISQUALIFIED and bad.reentry_on is None
    assert later.contact.lifecycle_stage == Stage.RECYCLED
    assert later.reentry_on == now().date() + timedelta(days=90)


def test_recycling_needs_a_reason_and_a_future_reentry_date(policy, round_robin):
    handoff = open_one()
    with pytest.raises(ValidationFailed) as refused:
        handoff_recycle(handoff=handoff, actor=handoff.owner, reason=" ", reentry_on=str(now().date()))
    assert set(refused.value.errors) == {"reason", "reentry_on"}


def test_a_recycled_lead_qualifies_again_only_after_its_reentry_date(policy, round_robin, rep):
    handoff = open_one()
    contact = handoff.contact
    reentry = now().date() + timedelta(days=30)
    handoff_recycle(handoff=handoff, actor=handoff.owner, reason="budget next quarter", reentry_on=reentry)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == Stage.RECYCLED

    # Scoring (or a person) qualifies it again before the date: no handoff yet.
    contact_change_stage(contact=contact, to_stage=Stage.MQL, actor=rep)
    assert handoffs_open_for(contacts=[contact]) == []
    assert handoffs_reenter() == 0

    # After the date the waiting MQL is handed over, and the loop is counted.
    later = now() + timedelta(days=31)
    (again,) = handoffs_open_for(contacts=[contact], at=later)
    assert again.loop == 1 and again.opened_at == later


def test_reentry_returns_recycled_leads_to_nurturing(policy, round_robin):
    handoff = open_one()
    handoff_recycle(handoff=handoff, actor=handoff.owner, reason="not now", reentry_on=now().date() + timedelta(days=2))
    assert handoffs_reenter(at=now() + timedelta(days=3)) == 1
    handoff.contact.refresh_from_db()
    assert handoff.contact.lifecycle_stage == Stage.LEAD


# --- the clock --------------------------------------------------------------------------------


def test_the_sweep_warns_then_breaches_each_exactly_once(policy, round_robin, manager):
    handoff = open_one()
    halfway = handoff.opened_at + timedelta(hours=13)
    assert handoffs_sweep(at=halfway).warned == 1
    assert handoffs_sweep(at=halfway).warned == 0
    late = handoff.opened_at + timedelta(hours=25)
    result = handoffs_sweep(at=late)
    assert (result.warned, result.breached) == (0, 1)
    assert handoffs_sweep(at=late).breached == 0
    handoff.refresh_from_db()
    assert handoff.breached and handoff.breached_at == late
    kinds = list(HandoffEvent.objects.filter(handoff=handoff).values_list("kind", flat=True))
    assert kinds.count("warned") == 1 and kinds.count("breached") == 1


def test_a_response_stops_the_clock(policy, round_robin):
    handoff = open_one()
    handoff_log_attempt(handoff=handoff, actor=handoff.owner)
    result = handoffs_sweep(at=handoff.opened_at + timedelta(days=3))
    assert (result.warned, result.breached) == (0, 0)


def test_a_call_logged_elsewhere_by_the_owner_counts_as_the_response(policy, round_robin):
    handoff = open_one()
    moment = now()
    Touchpoint.objects.create(contact=handoff.contact, kind="meeting", team="sales", actor=handoff.owner,
                              occurred_at=moment, created_at=moment)
    result = handoffs_sweep(at=handoff.opened_at + timedelta(days=3))
    handoff.refresh_from_db()
    assert result.responses == 1 and not handoff.breached and handoff.first_response_at == moment


def test_a_breach_can_reassign_to_the_next_rep(always_open, manager, reps, round_robin):
    sla_policy_save(values={"name": "Strict", "calendar": always_open, "target_hours": 1, "reassign_on_breach": True},
                    actor=manager)
    handoff = open_one()
    first_owner = handoff.owner
    result = handoffs_sweep(at=handoff.opened_at + timedelta(hours=2))
    handoff.refresh_from_db()
    assert result.reassigned == 1 and handoff.owner != first_owner
    assert handoff.routing_reason.startswith("reassigned after breach")


def test_the_sweep_issues_the_same_queries_for_20_or_80_due_leads(policy, round_robin, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, prefix in ((20, "a"), (80, "b")):
        handoffs = handoffs_open_for(contacts=[make_contact(email=f"{prefix}{i}@x.test") for i in range(size)])
        with CaptureQueriesContext(connection) as queries:
            result = handoffs_sweep(at=handoffs[0].opened_at + timedelta(days=2), batch_size=1000)
        assert (result.warned, result.breached) == (size, size)
        counts.append(len(queries))
    # Fixed per batch plus one grouped notice per recipient (three reps, one manager).
    assert counts[1] - counts[0] <= 2 and counts[1] <= 80


def test_a_breach_reaches_the_owner_and_the_managers_in_app_and_by_email(policy, round_robin, manager, mailoutbox):
    from accord.notifications.models import Notification

    handoff = open_one()
    handoffs_sweep(at=handoff.opened_at + timedelta(hours=25))
    breaches = Notification.objects.filter(kind="handoff.breach")
    assert set(breaches.values_list("recipient__username", flat=True)) == {handoff.owner.username, manager.username}


def test_the_board_counts_leads_behind_their_follow_up_cadence(policy, round_robin):
    from accord.handoff.queries import sla_board

    handoff = open_one()
    handoff_log_attempt(handoff=handoff, actor=handoff.owner)
    rows = sla_board(at=handoff.opened_at + timedelta(days=6))  # 1 of 3 attempts, 5 days passed
    (row,) = [r for r in rows if r.owner_id == handoff.owner_id]
    assert row.cadence_behind == 1 and row.overdue == 0


def test_the_reports_see_sla_compliance_and_policy_changes(policy, round_robin):
    from accord.reports.providers import change_feeds, kpi_provider

    handoff = open_one()
    handoff_log_attempt(handoff=handoff, actor=handoff.owner)
    Handoff.objects.filter(pk=handoff.pk).update(first_response_at=now() - timedelta(minutes=2), due_at=now() - timedelta(minutes=1))
    kpi = kpi_provider("sla_compliance")(start=now() - timedelta(days=1), end=now() + timedelta(days=1), contacts=None)
    assert (kpi.met, kpi.total) == (1, 1)
    items = change_feeds()["sla"](start=now() - timedelta(days=1), end=now() + timedelta(days=1))
    assert items[0].title == "New sales response: Inbound MQLs"
