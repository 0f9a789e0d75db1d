"""Scoring pages: list, editor with inline errors, proposal with approvals, comparison, suggestions."""

from __future__ import annotations

import pytest

from accord.core.models import User
from accord.scoring.models import ModelStatus, ScoringModel
from accord.scoring.services import scores_rescore, scoring_model_create

from .helpers import contact, fit, live_model

pytestmark = pytest.mark.django_db

RULES = [fit("Senior", "seniority", "in", ["vp"], 30)]


def editor_post(**rows):
    data = {"name": "Lead score", "description": "", "band_A": "30", "band_B": "20", "band_C": "10",
            "mql_min_grade": "B", "mql_min_score": "20", "rule_count": str(len(rows))}
    for index, values in rows.items():
        for key, value in values.items():
            data[f"rule-{index[1:]}-{key}"] = value
    return data


def test_the_list_shows_versions_and_the_live_one(client, marketer, django_assert_max_num_queries):
    live_model(marketer, RULES, name="Live one")
    scoring_model_create(actor=marketer, name="Next", rules=RULES)
    client.force_login(marketer)
    with django_assert_max_num_queries(10):
        response = client.get("/scoring/")
    assert response.status_code == 200
    assert b"Live now" in response.content and b"Next" in response.content


def test_the_editor_shows_errors_inline_and_keeps_the_input(client, marketer):
    model = scoring_model_create(actor=marketer, name="Lead score", rules=RULES)
    client.force_login(marketer)
    data = editor_post(
        r0={"kind": "fit", "label": "Titles", "field": "job_title", "operator": "matches", "value": "(vp", "points": "5"},
        r1={"kind": "engagement", "label": "Pricing", "kinds": "page_visit", "url": "*/pricing*", "points": "5", "cap": "20", "half_life_days": "30"},
    )
    data["band_B"] = "40"
    response = client.post(f"/scoring/{model.pk}/edit/", data)
    assert response.status_code == 422
    text = response.content.decode()
    assert "rule 1 &#x27;Titles&#x27;: &#x27;(vp&#x27; is not a valid regular expression" in text
    assert "grade bands overlap" in text
    assert 'value="*/pricing*"' in text
    assert [r.label for r in model.rules.all()] == ["Senior"]  # nothing stored


def test_the_editor_saves_adds_and_removes_rules(client, marketer):
    model = scoring_model_create(actor=marketer, name="Lead score", rules=RULES)
    client.force_login(marketer)
    data = editor_post(
        r0={"kind": "fit", "label": "Senior", "field": "seniority", "operator": "in", "value": "vp", "points": "30", "delete": "1"},
        r1={"kind": "fit", "label": "Size", "field": "employee_count", "operator": "between", "value": "200-", "points": "10"},
        r2={"kind": "engagement", "label": "Pricing", "kinds": "page_visit", "url": "*/pricing*", "points": "5", "cap": "20", "half_life_days": "30"},
        r3={},
    )
    response = client.post(f"/scoring/{model.pk}/edit/", data)
    assert response.status_code == 302
    rules = list(model.rules.values_list("label", "value"))
    assert rules == [("Size", [200.0, None]), ("Pricing", {"kinds": ["page_visit"], "url": "*/pricing*"})]


def test_two_people_of_different_teams_approve_on_the_proposal_page(client, marketer, rep):
    model = scoring_model_create(actor=marketer, name="Lead score", rules=RULES)
    person = contact(seniority="vp")
    client.force_login(marketer)
    client.post(f"/scoring/{model.pk}/propose/")
    client.post(f"/scoring/{model.pk}/approve/")
    page = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "Approved by" in page and 'id="approve"' not in page  # the marketer cannot approve again
    client.force_login(rep)
    assert 'id="approve"' in client.get(f"/scoring/{model.pk}/").content.decode()
    client.post(f"/scoring/{model.pk}/comments/", {"body": "Sales agrees"})
    response = client.post(f"/scoring/{model.pk}/approve/", follow=True)
    assert "is now active" in response.content.decode()
    model.refresh_from_db()
    person.refresh_from_db()
    assert model.status == ModelStatus.ACTIVE and person.score == 30
    page = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "Sales agrees" in page and "activated" in page


def test_compare_page_shows_mql_counts_and_backtest(client, marketer, django_assert_max_num_queries):
    live_model(marketer, RULES, score=30)
    draft = scoring_model_create(actor=marketer, name="Broader", rules=[fit("Any title", "job_title", "contains", ["a"], 30)],
                                 mql_min_grade="D", mql_min_score=30)
    contact(seniority="vp")
    contact(job_title="Analyst")
    scores_rescore()
    client.force_login(marketer)
    response = client.get(f"/scoring/{draft.pk}/compare/")
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="proposed-mql">1<' in text and 'id="active-mql">1<' in text
    assert 'id="moved-in">1<' in text and 'id="moved-out">1<' in text


def test_suggestions_page_and_contact_panel(client, marketer):
    live_model(marketer, RULES)
    person = contact(seniority="vp")
    scores_rescore()
    client.force_login(marketer)
    assert b"What predicts winning" in client.get("/scoring/suggestions/").content
    panel = client.get(f"/scoring/contacts/{person.pk}/panel/").content.decode()
    assert 'id="contact-score">30<' in panel and "Senior" in panel and "<svg" in panel


def test_pages_need_a_login_and_a_role(client, db):
    assert client.get("/scoring/").status_code == 302
    nobody = User.objects.create(username="norole", role="", team="")
    client.force_login(nobody)
    assert client.get("/scoring/").status_code == 403
    assert client.post("/scoring/new/", {"name": "x"}).status_code == 403
    assert not ScoringModel.objects.exists()


def test_the_360_page_shows_the_score_breakdown_and_chart(client, marketer):
    live_model(marketer, RULES)
    person = contact(seniority="vp")
    scores_rescore()
    client.force_login(marketer)
    page = client.get(f"/contacts/{person.pk}/").content.decode()
    assert 'id="score-panel"' in page and 'id="contact-score">30<' in page and "Senior" in page and "<polyline" in page
