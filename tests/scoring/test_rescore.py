"""Rescoring: incremental in the capture pipeline, whole-base, daily decay, and the MQL line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.core.clock import now
from accord.crm.lifecycle import Stage
from accord.crm.models import StageChange
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture, leads_capture_bulk
from accord.scoring.jobs import decay_scores
from accord.scoring.models import ContactScore, ModelStatus, ScoreHistory
from accord.scoring.services import scores_rescore

from .helpers import contact, engage, fit, live_model, touch

pytestmark = pytest.mark.django_db

RULES = [
    fit("Decision maker", "seniority", "in", ["vp", "c_level"], 30),
    engage("Form", {"kinds": ["form_submission"]}, 25, half_life=30),
]


def test_crossing_the_mql_line_moves_the_lead_to_mql_with_the_score_as_reason(marketer):
    live_model(marketer, RULES, grade="A", score=50)
    person = contact(seniority="vp", lifecycle_stage=Stage.LEAD)
    scores_rescore()
    person.refresh_from_db()
    assert person.lifecycle_stage == Stage.LEAD  # 30 points: not yet
    touch(person, "form_submission")
    summary = scores_rescore(contact_ids=[person.pk])
    person.refresh_from_db()
    assert summary.moved_to_mql == [person.pk]
    assert person.lifecycle_stage == Stage.MQL
    change = StageChange.objects.get(contact=person, to_stage=Stage.MQL)
    assert change.source == StageChange.Source.SCORING
    assert "score 55" in change.reason and "grade A" in change.reason


def test_falling_below_never_demotes_and_accepted_leads_are_left_alone(marketer):
    live_model(marketer, RULES, grade="A", score=50)
    accepted = contact(seniority="vp", lifecycle_stage=Stage.SAL)
    touch(accepted, "form_submission")
    mql = contact(seniority="vp", lifecycle_stage=Stage.LEAD)
    touch(mql, "form_submission", days_ago=1)
    scores_rescore()
    accepted.refresh_from_db()
    assert accepted.lifecycle_stage == Stage.SAL
    mql.refresh_from_db()
    assert mql.lifecycle_stage == Stage.MQL
    # Months later the engagement has decayed below the line; nobody is demoted.
    later = now() + timedelta(days=120)
    scores_rescore(moment=later)
    accepted.refresh_from_db()
    mql.refresh_from_db()
    assert accepted.lifecycle_stage == Stage.SAL and mql.lifecycle_stage == Stage.MQL
    assert ContactScore.objects.get(contact=mql).qualified is False
    assert mql.score < 50


def test_capture_rescores_the_captured_contacts_and_can_make_them_mql(marketer):
    live_model(marketer, RULES, grade="A", score=50)
    outcome = contact_capture(lead=lead_from_mapping({"email": "cto@acme.com", "seniority": "c_level"}, default_region="US"))
    person = outcome.contact
    person.refresh_from_db()
    assert (person.score, person.grade, person.lifecycle_stage) == (55, "A", Stage.MQL)
    assert outcome.contact.score == 55


def test_bulk_capture_rescores_set_wise(marketer, django_assert_max_num_queries):
    live_model(marketer, RULES, grade="A", score=1000)
    leads = [(n, lead_from_mapping({"email": f"p{n}@acme.com", "seniority": "vp"}, default_region="US")) for n in range(30)]
    leads_capture_bulk(leads=leads)
    assert ContactScore.objects.filter(score=55).count() == 30
    more = [(n, lead_from_mapping({"email": f"q{n}@acme.com"}, default_region="US")) for n in range(30)]
    with django_assert_max_num_queries(40):
        leads_capture_bulk(leads=more)


def test_daily_decay_job_lowers_engagement_and_records_history(marketer):
    live_model(marketer, [engage("Visits", {"kinds": ["page_visit"]}, 40, half_life=1)])
    person = contact()
    touch(person, days_ago=0)
    scores_rescore()
    person.refresh_from_db()
    assert person.score == 40
    assert ScoreHistory.objects.filter(contact=person).count() == 1
    # Three days on (the touch moved three days back): the daily job halves it three times.
    from accord.campaigns.models import Touchpoint

    Touchpoint.objects.filter(contact=person).update(occurred_at=now() - timedelta(days=3))
    result = decay_scores({})
    person.refresh_from_db()
    assert result["changed"] == 1
    assert person.score == 5  # 40 halved three times
    assert list(ScoreHistory.objects.filter(contact=person).values_list("score", flat=True)) == [40, 5]
    assert decay_scores({})["changed"] == 0  # idempotent


def test_without_a_live_model_nothing_is_scored(marketer):
    contact(seniority="vp")
    assert scores_rescore().scored == 0


def test_the_active_model_is_read_afresh_whenever_its_row_changes(marketer):
    from accord.scoring.models import ScoringModel
    from accord.scoring.queries import active_model_get
    from accord.scoring.services import active_model

    assert active_model() is None
    first = live_model(marketer, [fit("VP", "seniority", "in", ["vp"], 30)], name="First", score=40)
    assert active_model().pk == first.pk and active_model().mql_min_score == 40
    # A copy each time: a caller changing its instance changes nobody else's.
    mine = active_model_get()
    mine.mql_min_score = 1
    assert active_model_get().mql_min_score == 40
    # Changed by a plain UPDATE (another process, no updated_at): seen on the next call.
    ScoringModel.objects.filter(pk=first.pk).update(mql_min_score=55)
    assert active_model().mql_min_score == 55
    # Another version goes live: the new one, not the one kept.
    ScoringModel.objects.filter(pk=first.pk).update(status=ModelStatus.RETIRED)
    assert active_model() is None
    second = live_model(marketer, [fit("VP", "seniority", "in", ["vp"], 20)], name="Second")
    assert active_model().pk == second.pk and active_model().name == "Second"
