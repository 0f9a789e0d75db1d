from __future__ import annotations

import pytest

from accord.campaigns.models import Touchpoint
from accord.core.models import IdempotentRequest
from accord.crm.models import Account, Contact
from tests.api.conftest import errors_by_field, make_campaign

pytestmark = pytest.mark.django_db

LEAD = {
    "email": "Ann.Lee@Acme.com",
    "first_name": "Ann",
    "company": "Acme",
    "phone": "+1 415 555 2671",
    "landing_url": "https://acme.example/lp?utm_source=linkedin&utm_medium=paid_social&utm_campaign=spring",
}


def test_capture_creates_the_contact_account_and_touchpoint(api_as, marketer):
    campaign = make_campaign(name="Spring", channel="paid_social", utm_campaign="spring")
    response = api_as(marketer).post("/api/capture", LEAD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["contact"]["email"] == "ann.lee@acme.com"
    assert body["contact"]["account"]["name"] == "Acme"
    assert body["contact"]["first_touch_campaign_id"] == campaign.pk
    touchpoint = Touchpoint.objects.get(pk=body["touchpoint_id"])
    assert touchpoint.campaign == campaign and touchpoint.actor == marketer


def test_capture_of_a_known_person_updates_and_answers_200(api_as, rep):
    api = api_as(rep)
    api.post("/api/capture", {"email": "ann@acme.com", "first_name": "Ann"})
    again = api.post("/api/capture", {"email": "ANN@acme.com", "job_title": "CTO", "first_name": ""})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert "job_title" in again.json()["changed_fields"]
    contact = Contact.objects.get()
    assert (contact.first_name, contact.job_title) == ("Ann", "CTO")
    assert Touchpoint.objects.count() == 2


def test_capture_names_each_bad_field_and_stores_nothing(api_as, rep):
    response = api_as(rep).post(
        "/api/capture",
        {
            "email": "ann@",
            "phone": "call me",
            "annual_revenue": "lots",
            "birth_date": "1990-02-31",
            "lifecycle_stage": "hot",
            "employee_count": "many",
            "first_name": "A" * 300,
            "shoe_size": 43,
        },
    )
    errors = errors_by_field(response)
    # Type errors are found first, by the schema; every one is named.
    assert {"annual_revenue", "birth_date", "employee_count", "shoe_size"} <= set(errors)
    response = api_as(rep).post(
        "/api/capture", {"email": "ann@", "phone": "call me", "lifecycle_stage": "hot", "first_name": "A" * 300}
    )
    errors = errors_by_field(response)
    assert set(errors) == {"email", "phone", "lifecycle_stage", "first_name"}
    assert Contact.objects.count() == Account.objects.count() == Touchpoint.objects.count() == 0


def test_capture_requires_an_email(api_as, rep):
    assert errors_by_field(api_as(rep).post("/api/capture", {"first_name": "Ann"})) == {"email": "is required"}


def test_capture_refuses_an_unknown_campaign_by_name(api_as, rep):
    errors = errors_by_field(api_as(rep).post("/api/capture", {"email": "ann@acme.com", "campaign_id": 4242}))
    assert "campaign_id" in errors
    assert Contact.objects.count() == 0


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result_and_creates_nothing(api_as, rep):
    api = api_as(rep)
    first = api.post("/api/capture", LEAD, headers={"Idempotency-Key": "form-123"})
    assert first.status_code == 201
    assert first["Idempotent-Replayed"] == "false"
    retry = api.post("/api/capture", dict(reversed(LEAD.items())), headers={"Idempotency-Key": "form-123"})
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Contact.objects.count() == 1
    assert Touchpoint.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_without_a_key_a_repeat_is_a_second_capture(api_as, rep):
    api = api_as(rep)
    api.post("/api/capture", LEAD)
    assert api.post("/api/capture", LEAD).status_code == 200
    assert Touchpoint.objects.count() == 2


def test_the_same_key_with_another_body_is_refused(api_as, rep):
    api = api_as(rep)
    api.post("/api/capture", LEAD, headers={"Idempotency-Key": "form-123"})
    response = api.post("/api/capture", {**LEAD, "first_name": "Anne"}, headers={"Idempotency-Key": "form-123"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "different request body" in error["msg"]
    assert Contact.objects.get().first_name == "Ann"
    assert Touchpoint.objects.count() == 1


def test_keys_belong_to_their_user(api_as, rep, marketer):
    api_as(rep).post("/api/capture", LEAD, headers={"Idempotency-Key": "k1"})
    other = api_as(marketer).post("/api/capture", {"email": "bo@globex.com"}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 201
    assert Contact.objects.count() == 2


def test_a_rejected_request_leaves_its_key_free_for_the_corrected_retry(api_as, rep):
    api = api_as(rep)
    assert api.post("/api/capture", {"email": "nope"}, headers={"Idempotency-Key": "k2"}).status_code == 422
    assert IdempotentRequest.objects.count() == 0
    fixed = api.post("/api/capture", {"email": "ann@acme.com"}, headers={"Idempotency-Key": "k2"})
    assert fixed.status_code == 201


def test_an_oversized_idempotency_key_is_refused_by_name(api_as, rep):
    response = api_as(rep).post("/api/capture", LEAD, headers={"Idempotency-Key": "k" * 201})
    assert errors_by_field(response) == {"Idempotency-Key": "is longer than 200 characters"}
    assert Contact.objects.count() == 0


def test_html_in_a_note_is_stored_as_text(api_as, rep):
    note = "<img src=x onerror=alert(1)> call back"
    response = api_as(rep).post("/api/capture", {"email": "ann@acme.com", "note": note})
    assert Touchpoint.objects.get(pk=response.json()["touchpoint_id"]).body == note


def test_a_capture_runs_a_fixed_number_of_queries(api_as, rep, django_assert_max_num_queries):
    api = api_as(rep)
    api.post("/api/capture", {"email": "first@acme.com"})
    # The whole pipeline, each step set-wise: match (exact keys, then fuzzy candidates), write,
    # touchpoint, interests, rescore, hand off. A fixed number, whatever the batch holds.
    with django_assert_max_num_queries(22):
        assert api.post("/api/capture", {**LEAD, "interests": ["sso", "api", "pricing"]}).status_code == 201
    with django_assert_max_num_queries(25):
        assert api.post("/api/capture", LEAD, headers={"Idempotency-Key": "q-1"}).status_code == 200


def test_idempotency_records_are_forgotten_after_a_week(api_as, rep):
    from datetime import timedelta

    from accord.core.clock import now
    from accord.core.jobs import prune_idempotency_records

    api = api_as(rep)
    api.post("/api/capture", LEAD, headers={"Idempotency-Key": "old"})
    api.post("/api/capture", LEAD, headers={"Idempotency-Key": "new"})
    IdempotentRequest.objects.filter(key="old").update(created_at=now() - timedelta(days=8))
    prune_idempotency_records({})
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
