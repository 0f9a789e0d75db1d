"""Comparison, backtest and AUC on small hand-computed cases; the suggestion fit."""

from __future__ import annotations

import numpy as np
import pytest

from accord.core.clock import now
from accord.crm.models import Opportunity
from accord.scoring.analysis import model_backtest, models_compare, roc_auc
from accord.scoring.services import scoring_model_create, scoring_model_from_suggestion
from accord.scoring.suggest import logistic_fit, logistic_predict, suggestion_fit

from .helpers import account, contact, fit, live_model, touch

pytestmark = pytest.mark.django_db


def test_auc_by_hand():
    # positives 0.8, 0.4; negatives 0.6, 0.2, 0.4: pairs won 0.8>all (3), 0.4>0.2 (1), 0.4=0.4 (half) → 4.5/6
    assert roc_auc([0.8, 0.4, 0.6, 0.2, 0.4], [1, 1, 0, 0, 0]) == pytest.approx(0.75)
    assert roc_auc([1, 2], [0, 0]) is None


def opportunity(person, stage):
    moment = now()
    return Opportunity.objects.create(name="Deal", primary_contact=person, stage=stage, created_at=moment, updated_at=moment)


def test_backtest_conversion_by_band_and_grade_and_auc(marketer):
    model = live_model(marketer, [fit("VP", "seniority", "in", ["vp"], 30), fit("Big", "employee_count", "between", [100, None], 20)])
    big = account(employee_count=500)
    a = contact(seniority="vp", account=big)  # 50 → A, won
    b = contact(seniority="vp")  # 30 → A, lost
    c = contact(account=big)  # 20 → B, won
    d = contact()  # 0 → D, nothing
    opportunity(a, "won")
    opportunity(b, "lost")
    opportunity(c, "won")
    result = model_backtest(model=model, moment=now())
    assert (result.contacts, result.opportunities, result.won) == (4, 3, 2)
    grades = {row.label: (row.contacts, row.opportunities, row.won) for row in result.by_grade}
    assert grades == {"A": (2, 2, 1), "B": (1, 1, 1), "C": (0, 0, 0), "D": (1, 0, 0)}
    bands = {row.label: (row.contacts, row.won) for row in result.by_band}
    assert bands["50–74"] == (1, 1) and bands["25–49"] == (1, 0) and bands["0–24"] == (2, 1)
    # won scores 50, 20; not won 30, 0 → pairs: 50>30, 50>0, 20>0, 20<30 → 3/4
    assert result.auc == pytest.approx(0.75)


def test_backtest_ignores_touchpoints_after_the_first_opportunity(marketer):
    from .helpers import engage

    model = live_model(marketer, [engage("Meetings", {"kinds": ["meeting"]}, 10)])
    person = contact()
    opportunity(person, "won")
    touch(person, "meeting")  # after the deal was opened
    result = model_backtest(model=model, moment=now())
    assert {row.label: row.contacts for row in result.by_band}["0–24"] == 1
    assert result.by_grade[3].won == 1


def test_comparison_counts_mql_and_who_moves(marketer):
    live_model(marketer, [fit("VP", "seniority", "in", ["vp"], 30)], score=30)
    proposal = scoring_model_create(
        actor=marketer, name="Directors", rules=[fit("Director", "seniority", "in", ["director"], 30)], mql_min_grade="D", mql_min_score=30
    )
    vp, director, other = contact(seniority="vp"), contact(seniority="director"), contact()
    from accord.scoring.models import ScoringModel

    result = models_compare(proposed=proposal, active=ScoringModel.objects.get(status="active"), moment=now())
    assert (result.contacts, result.proposed_mql, result.active_mql) == (3, 1, 1)
    assert [c.pk for c in result.moved_in_sample] == [director.pk]
    assert [c.pk for c in result.moved_out_sample] == [vp.pk]
    assert other.pk not in {c.pk for c in result.moved_in_sample + result.moved_out_sample}


def test_logistic_fit_separates_a_separable_toy_case():
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    weights = logistic_fit(X, y, l2=0.1)
    assert weights[1] > 2  # strongly positive, yet finite thanks to the penalty
    p = logistic_predict(weights, X)
    assert (p[:3] < 0.2).all() and (p[3:] > 0.8).all()


def test_suggestions_find_what_wins_and_propose_a_draft(marketer):
    for n in range(6):
        won = contact(seniority="vp", email=f"w{n}@corp{n}.com")
        touch(won, "webinar", days_ago=1)
        opportunity(won, "won")
        lost = contact(seniority="entry", email=f"l{n}@gmail.com")
        opportunity(lost, "lost")
    result = suggestion_fit()
    assert (result.examples, result.won) == (12, 6)
    by_key = {c.feature.key: c for c in result.coefficients}
    assert by_key["seniority=vp"].coefficient > 0 and by_key["seniority=vp"].odds_ratio > 1
    assert by_key["email=free"].coefficient < 0
    model = scoring_model_from_suggestion(actor=marketer)
    assert model.status == "draft"
    kinds = {(r.field, r.kind) for r in model.rules.all()}
    assert ("seniority", "fit") in kinds and ("touchpoint", "engagement") in kinds
    assert ("email_domain_type", "negative") in kinds
