"""Small builders for scoring tests."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from accord.campaigns.models import Touchpoint
from accord.core.clock import now
from accord.crm.models import Account, Contact
from accord.scoring.models import ModelStatus, ScoringApproval
from accord.scoring.services import _activate, scoring_model_create

_n = iter(range(1, 10**6))


def account(**values) -> Account:
    moment = now()
    return Account.objects.create(name=values.pop("name", f"Acme {next(_n)}"), created_at=moment, updated_at=moment, **values)


def contact(**values) -> Contact:
    moment = now()
    values.setdefault("email", f"person{next(_n)}@example.com")
    return Contact.objects.create(created_at=moment, updated_at=moment, **values)


def touch(contact: Contact, kind: str = "page_visit", *, days_ago: float = 0, **values) -> Touchpoint:
    moment = now()
    return Touchpoint.objects.create(
        contact=contact, kind=kind, team="marketing", occurred_at=moment - timedelta(days=days_ago), created_at=moment, **values
    )


def fit(label, field, operator, value, points, kind="fit") -> dict:
    return {"kind": kind, "label": label, "field": field, "operator": operator, "value": value, "points": points}


def engage(label, value, points, *, cap=None, half_life=None) -> dict:
    return {"kind": "engagement", "label": label, "value": value, "points": points, "cap": cap, "half_life_days": half_life}


def quick_user(team: str):
    """A user without a password (hashing one is slow), for approvals written directly."""
    from accord.core.models import User

    n = next(_n)
    return User.objects.create(username=f"{team}{n}", role=team, team=team)


def live_model(actor, rules, *, bands=None, grade="D", score=0, name="Test model"):
    """A model made active directly (approvals written as rows), for tests about scoring itself."""
    model = scoring_model_create(
        actor=actor, name=name, rules=rules, grade_bands=bands or {"A": 30, "B": 20, "C": 10}, mql_min_grade=grade, mql_min_score=score
    )
    model.status = ModelStatus.PROPOSED
    model.save(update_fields=["status"])
    moment = now()
    ScoringApproval.objects.create(model=model, user=quick_user("marketing"), side="marketing", approved_at=moment)
    ScoringApproval.objects.create(model=model, user=quick_user("sales"), side="sales", approved_at=moment)
    with transaction.atomic():
        _activate(model, actor)
    return model
