"""The demo model: created, approved by the demo marketer and sales rep, live, base scored."""

from __future__ import annotations

import io

import pytest

from accord.core.clock import now
from accord.core.models import User
from accord.scoring.demo import demo_load
from accord.scoring.models import ModelStatus, ScoringModel

from .helpers import contact

pytestmark = pytest.mark.django_db


def test_demo_load_activates_a_model_approved_by_both_demo_users_and_scores_the_base():
    User.objects.create(username="marketer", role="marketing", team="marketing")
    User.objects.create(username="sales1", role="sales", team="sales")
    person = contact(seniority="vp", email="vp@bigco.com")
    out = io.StringIO()
    demo_load(seed=1, now=now(), stdout=out)
    model = ScoringModel.objects.get()
    assert model.status == ModelStatus.ACTIVE
    assert sorted(model.approvals.values_list("user__username", flat=True)) == ["marketer", "sales1"]
    person.refresh_from_db()
    assert person.score == 25 and "live" in out.getvalue()
    demo_load(seed=1, now=now(), stdout=out)  # a second run leaves it alone
    assert ScoringModel.objects.count() == 1


def test_demo_load_without_the_demo_users_leaves_the_model_proposed():
    User.objects.create(username="admin", role="admin", team="marketing")
    demo_load(seed=1, now=now(), stdout=io.StringIO())
    assert ScoringModel.objects.get().status == ModelStatus.PROPOSED
