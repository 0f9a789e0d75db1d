"""The scoring API: drafts with errors naming rule and field, approvals, the explained score."""

from __future__ import annotations

import pytest

from accord.core.models import Role
from tests.conftest import make_user

from .helpers import contact, fit, live_model

pytestmark = pytest.mark.django_db

RULE = {"kind": "fit", "label": "Senior", "field": "seniority", "operator": "in", "value": ["vp"], "points": 30}


def test_a_bad_rule_is_a_422_naming_the_rule_and_field(client, marketer):
    client.force_login(marketer)
    bad = {**RULE, "label": "Regex", "field": "job_title", "operator": "matches", "value": "([a-"}
    response = client.post("/api/scoring/models", {"name": "M", "rules": [RULE, bad]}, content_type="application/json")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "rules.1.value"]
    assert "rule 2 'Regex'" in error["msg"]


def test_two_teams_approve_through_the_api_and_the_model_goes_live(client, marketer, rep):
    client.force_login(marketer)
    created = client.post("/api/scoring/models", {"name": "M", "rules": [RULE]}, content_type="application/json")
    assert created.status_code == 201
    model_id = created.json()["id"]
    assert client.post(f"/api/scoring/models/{model_id}/propose").json()["status"] == "proposed"
    assert client.post(f"/api/scoring/models/{model_id}/approve").status_code == 200
    again = client.post(f"/api/scoring/models/{model_id}/approve")
    assert again.status_code == 422
    client.force_login(rep)
    body = client.post(f"/api/scoring/models/{model_id}/approve").json()
    assert body["status"] == "active"
    assert {a["side"] for a in body["approvals"]} == {"marketing", "sales"}
    audit = client.get(f"/api/scoring/models/{model_id}/audit").json()
    assert [a["action"] for a in audit][:2] == ["activated", "approved"]


def test_contact_score_endpoint_explains_the_score(client, marketer, django_assert_max_num_queries):
    live_model(marketer, [fit("Senior", "seniority", "in", ["vp"], 30), fit("Free", "email_domain_type", "is", "free", -5, kind="negative")])
    from accord.scoring.services import scores_rescore

    person = contact(seniority="vp", email="v@gmail.com")
    scores_rescore()
    client.force_login(marketer)
    with django_assert_max_num_queries(8):
        body = client.get(f"/api/scoring/contacts/{person.pk}").json()
    assert (body["score"], body["grade"]) == (25, "B")
    assert [(b["label"], b["points"]) for b in body["breakdown"]] == [("Senior", 30), ("Free", -5)]
    assert [h["score"] for h in body["history"]] == [25]
    assert client.get("/api/scoring/contacts/999999").status_code == 404


def test_comparison_backtest_and_suggestions_endpoints_answer(client, marketer):
    live_model(marketer, [fit("Senior", "seniority", "in", ["vp"], 30)])
    contact(seniority="vp")
    client.force_login(marketer)
    created = client.post("/api/scoring/models", {"name": "New", "rules": [RULE]}, content_type="application/json").json()
    comparison = client.get(f"/api/scoring/models/{created['id']}/comparison").json()
    assert comparison["contacts"] == 1
    backtest = client.get(f"/api/scoring/models/{created['id']}/backtest").json()
    assert backtest["contacts"] == 1 and backtest["auc"] is None
    assert client.get("/api/scoring/suggestions").json()["examples"] == 0


def test_it_requires_authentication(client):
    assert client.get("/api/scoring/models").status_code == 401
