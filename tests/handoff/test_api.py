"""/api/handoffs: the queue, actions with their refusals, policies and calendars, the report."""

from __future__ import annotations

import pytest

from accord.handoff.models import Handoff
from accord.handoff.services import handoffs_open_for
from tests.handoff.conftest import make_contact


@pytest.fixture
def handoff(policy, round_robin) -> Handoff:
    (handoff,) = handoffs_open_for(contacts=[make_contact(email="api@x.test")])
    return handoff


def test_a_rep_sees_their_queue_and_accepts_after_a_call(client, handoff, django_assert_max_num_queries):
    client.force_login(handoff.owner)
    with django_assert_max_num_queries(8):
        page = client.get("/api/handoffs/").json()
    assert page["count"] == 1 and page["items"][0]["due_at"]
    assert client.post(f"/api/handoffs/{handoff.pk}/attempts", {"kind": "call", "note": "spoke"},
                       content_type="application/json").status_code == 201
    accepted = client.post(f"/api/handoffs/{handoff.pk}/accept", {}, content_type="application/json").json()
    assert accepted["status"] == "accepted" and accepted["attempts"] == 1 and accepted["first_response_at"]


def test_a_reject_without_a_reason_is_a_422_naming_the_field(client, handoff):
    client.force_login(handoff.owner)
    response = client.post(f"/api/handoffs/{handoff.pk}/reject", {"note": "meh"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]


def test_recycle_needs_a_reentry_date(client, handoff):
    client.force_login(handoff.owner)
    response = client.post(f"/api/handoffs/{handoff.pk}/recycle", {"reason": "later"}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reentry_on"]


def test_marketing_may_not_work_handoffs_or_write_policies(client, handoff, marketer, always_open):
    client.force_login(marketer)
    assert client.post(f"/api/handoffs/{handoff.pk}/accept", {}, content_type="application/json").status_code == 403
    policy = {"name": "Mine", "calendar_id": always_open.pk, "target_hours": 8}
    assert client.post("/api/handoffs/policies", policy, content_type="application/json").status_code == 403
    assert client.get("/api/handoffs/report").status_code == 200  # both teams read the report


def test_a_manager_writes_policies_and_calendars_with_field_errors(client, manager):
    client.force_login(manager)
    bad = client.post("/api/handoffs/calendars", {"name": "Nope", "working_hours": {}}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "working_hours"]
    calendar = client.post("/api/handoffs/calendars", {"name": "Office", "time_zone": "Europe/Paris",
                           "working_hours": {"0": [["09:00", "17:00"]]}}, content_type="application/json")
    assert calendar.status_code == 201
    created = client.post("/api/handoffs/policies", {"name": "EU", "countries": ["FR"], "target_hours": 8,
                          "calendar_id": calendar.json()["id"]}, content_type="application/json")
    assert created.status_code == 201 and "match no contact" in created.json()["warnings"][0]
    refused = client.post("/api/handoffs/policies", {"name": "Odd", "min_score": 9, "max_score": 1, "target_hours": 8,
                          "calendar_id": calendar.json()["id"]}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "max_score"]


def test_the_report_groups_by_rep_and_shows_commitments(client, handoff, manager):
    client.force_login(manager)
    body = client.get("/api/handoffs/report?group_by=source").json()
    assert body["total"]["handoffs"] == 1 and body["commitments"] == []
    assert client.get("/api/handoffs/report?group_by=planet").status_code == 422


def test_a_manager_sets_up_routing_and_capacity(client, manager, reps):
    client.force_login(manager)
    rule = client.post("/api/handoffs/routing-rules", {"name": "Nordics", "kind": "territory", "countries": ["SE", "NO"],
                       "members": [{"user_id": reps[0].pk, "weight": 2}]}, content_type="application/json")
    assert rule.status_code == 201 and rule.json()["members"][0]["weight"] == 2
    bad = client.post("/api/handoffs/routing-rules", {"name": "Nowhere", "kind": "territory"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "countries"]
    assert client.put(f"/api/handoffs/capacity/{reps[0].pk}", {"max_open": 25}, content_type="application/json").status_code == 200
