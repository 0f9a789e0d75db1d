"""Joint ownership: one Marketing and one Sales approval of the same version, one live model."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accord.core.errors import ValidationFailed
from accord.core.models import Role, Team
from accord.scoring.models import ModelStatus, ScoringAudit, ScoringModel
from accord.scoring.services import (
    scoring_comment_add,
    scoring_model_approve,
    scoring_model_create,
    scoring_model_propose,
    scoring_model_save,
)
from tests.conftest import make_user

from .helpers import contact, fit

pytestmark = pytest.mark.django_db

RULES = [fit("Senior", "seniority", "in", ["vp"], 30)]


def proposed(actor, rules=RULES, name="Lead score"):
    model = scoring_model_create(actor=actor, name=name, rules=rules)
    return scoring_model_propose(model=model, actor=actor)


def test_a_version_goes_live_only_with_one_marketing_and_one_sales_approval(marketer, rep):
    model = proposed(marketer)
    first = scoring_model_approve(model=model, actor=marketer)
    assert not first.activated
    model.refresh_from_db()
    assert model.status == ModelStatus.PROPOSED
    second = scoring_model_approve(model=model, actor=rep)
    assert second.activated
    model.refresh_from_db()
    assert model.status == ModelStatus.ACTIVE


def test_one_person_cannot_approve_twice_and_a_side_approves_once(marketer, rep):
    model = proposed(marketer)
    scoring_model_approve(model=model, actor=marketer)
    with pytest.raises(ValidationFailed, match="already approved"):
        scoring_model_approve(model=model, actor=marketer)
    other_marketer = make_user(Role.MARKETING)
    with pytest.raises(ValidationFailed, match="Marketing has already approved"):
        scoring_model_approve(model=model, actor=other_marketer)
    manager_on_marketing = make_user(Role.MANAGER, team=Team.MARKETING)
    with pytest.raises(ValidationFailed):
        scoring_model_approve(model=model, actor=manager_on_marketing)


def test_a_draft_cannot_be_approved(marketer):
    model = scoring_model_create(actor=marketer, name="Draft", rules=RULES)
    with pytest.raises(ValidationFailed, match="only a proposed version"):
        scoring_model_approve(model=model, actor=marketer)


def test_editing_a_proposal_voids_its_approvals_and_is_recorded(marketer, rep):
    model = proposed(marketer)
    scoring_model_approve(model=model, actor=marketer)
    scoring_model_save(
        model=model, actor=rep, name="Lead score", description="", rules=[fit("Senior", "seniority", "in", ["vp"], 35)],
        grade_bands={"A": 60, "B": 40, "C": 20}, mql_min_grade="B", mql_min_score=50,
    )
    assert model.approvals.count() == 0
    actions = list(ScoringAudit.objects.filter(model=model).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["created", "proposed", "approved", "edited", "approvals voided"]
    # Approvals start again: the version needs both sides anew.
    assert not scoring_model_approve(model=model, actor=rep).activated


def test_activating_retires_the_live_version_so_exactly_one_is_active(marketer, rep):
    first = proposed(marketer, name="One")
    scoring_model_approve(model=first, actor=marketer)
    scoring_model_approve(model=first, actor=rep)
    second = proposed(marketer, name="Two")
    scoring_model_approve(model=second, actor=rep)
    scoring_model_approve(model=second, actor=marketer)
    first.refresh_from_db()
    assert first.status == ModelStatus.RETIRED
    assert list(ScoringModel.objects.filter(status="active")) == [second]


def test_the_database_refuses_two_active_models(marketer):
    a = scoring_model_create(actor=marketer, name="A", rules=RULES)
    b = scoring_model_create(actor=marketer, name="B", rules=RULES)
    ScoringModel.objects.filter(pk=a.pk).update(status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringModel.objects.filter(pk=b.pk).update(status="active")


def test_active_versions_are_not_editable_and_comments_are_recorded(marketer, rep):
    model = proposed(marketer)
    scoring_model_approve(model=model, actor=marketer)
    scoring_model_approve(model=model, actor=rep)
    with pytest.raises(ValidationFailed, match="new draft"):
        scoring_model_save(
            model=model, actor=marketer, name="x", description="", rules=RULES,
            grade_bands={"A": 3, "B": 2, "C": 1}, mql_min_grade="B", mql_min_score=1,
        )
    comment = scoring_comment_add(model=model, actor=rep, body="Looks right to Sales")
    assert ScoringAudit.objects.filter(model=model, action="commented", detail__comment=comment.pk).exists()


def test_approval_rescores_the_whole_base(marketer, rep):
    senior = contact(seniority="vp")
    model = proposed(marketer)
    scoring_model_approve(model=model, actor=marketer)
    outcome = scoring_model_approve(model=model, actor=rep)
    assert outcome.rescore.scored == 1
    senior.refresh_from_db()
    assert (senior.score, senior.grade) == (30, "C")
