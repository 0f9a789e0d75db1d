from __future__ import annotations

import pytest

from accord.core.models import Role
from accord.crm.models import Account, Contact, StageChange
from tests.api.conftest import errors_by_field
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_it_creates_reads_and_updates_a_contact(api_as, rep):
    api = api_as(rep)
    account = api.post("/api/accounts", {"name": "Acme", "domain": "https://www.Acme.com/"}).json()
    assert account["domain"] == "acme.com"

    created = api.post(
        "/api/contacts",
        {
            "email": " Ann.Lee@Acme.COM ",
            "first_name": "Ann",
            "phone": "(415) 555-2671",
            "account_id": account["id"],
            "owner_id": rep.id,
            "interests": ["SSO", "pricing"],
            "lifecycle_stage": "mql",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "ann.lee@acme.com"
    assert body["phone"] == "+14155552671"
    assert body["account"] == {"id": account["id"], "name": "Acme"}
    assert body["owner"]["username"] == rep.username
    assert body["interests"] == ["pricing", "sso"]
    assert body["lifecycle_stage"] == "mql"

    read = api.get(f"/api/contacts/{body['id']}")
    assert read.status_code == 200 and read.json() == body

    updated = api.patch(f"/api/contacts/{body['id']}", {"last_name": "Lee", "owner_id": None})
    assert updated.status_code == 200, updated.content
    assert updated.json()["last_name"] == "Lee"
    assert updated.json()["owner"] is None
    assert updated.json()["first_name"] == "Ann"  # fields not sent stay


def test_it_returns_404_for_a_contact_that_does_not_exist(api_as, rep):
    assert api_as(rep).get("/api/contacts/999999").status_code == 404
    assert api_as(rep).patch("/api/contacts/999999", {"first_name": "X"}).status_code == 404


def test_it_names_each_bad_field_and_stores_nothing(api_as, rep):
    response = api_as(rep).post(
        "/api/contacts",
        {
            "email": "not-an-address",
            "phone": "12",
            "birth_date": "31/12/1990",
            "lifecycle_stage": "hot",
            "first_name": "x" * 101,
            "do_not_contact": "perhaps",
            "favourite_colour": "blue",
        },
    )
    errors = errors_by_field(response)
    assert set(errors) == {"email", "phone", "birth_date", "lifecycle_stage", "first_name", "do_not_contact", "favourite_colour"}
    assert "not a valid email address" in errors["email"]
    assert "phone number" in errors["phone"]
    assert "100 characters" in errors["first_name"]
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert Contact.objects.count() == 0


def test_it_refuses_wrong_types_by_field(api_as, rep):
    errors = errors_by_field(api_as(rep).post("/api/contacts", {"email": 42, "interests": "sso", "owner_id": "me"}))
    assert set(errors) == {"email", "interests", "owner_id"}


def test_it_refuses_ids_that_name_nothing(api_as, rep):
    errors = errors_by_field(api_as(rep).post("/api/contacts", {"email": "a@b.co", "account_id": 9999, "owner_id": 9999}))
    assert set(errors) == {"account_id", "owner_id"}
    assert Contact.objects.count() == 0


def test_it_refuses_a_taken_email_and_changes_nothing(api_as, rep):
    api = api_as(rep)
    first = api.post("/api/contacts", {"email": "ann@acme.com", "first_name": "Ann"}).json()
    other = api.post("/api/contacts", {"email": "bob@acme.com", "first_name": "Bob"}).json()
    errors = errors_by_field(api.patch(f"/api/contacts/{other['id']}", {"email": "ANN@acme.com", "first_name": "Robert"}))
    assert "already has the address" in errors["email"]
    assert Contact.objects.get(pk=other["id"]).first_name == "Bob"
    assert Contact.objects.get(pk=first["id"]).email == "ann@acme.com"


def test_a_contact_needs_an_email_or_a_name(api_as, rep):
    assert "email" in errors_by_field(api_as(rep).post("/api/contacts", {"job_title": "CTO"}))


def test_it_refuses_malformed_json_without_storing(api_as, rep):
    response = api_as(rep).post("/api/contacts", raw="{not json")
    assert response.status_code in (400, 422)
    assert Contact.objects.count() == 0


def test_html_in_names_is_stored_and_returned_as_plain_text(api_as, rep):
    api = api_as(rep)
    name = '<script>alert("x")</script><b>Ann</b>'
    created = api.post("/api/contacts", {"first_name": name, "email": "ann@acme.com"})
    assert created["Content-Type"].startswith("application/json")
    assert created.json()["first_name"] == name
    assert Contact.objects.get().first_name == name


def test_it_moves_a_contact_along_its_lifecycle_and_records_the_move(api_as, rep):
    api = api_as(rep)
    contact = api.post("/api/contacts", {"email": "ann@acme.com"}).json()
    moved = api.post(f"/api/contacts/{contact['id']}/stage", {"lifecycle_stage": "sql"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["contact"]["lifecycle_stage"] == "sql"
    assert moved.json()["stage_change"]["from_stage"] == "lead"
    assert moved.json()["stage_change"]["changed_by"]["username"] == rep.username

    history = api.get(f"/api/contacts/{contact['id']}/stage-changes").json()
    assert [c["to_stage"] for c in history["items"]] == ["sql", "lead"]


def test_a_backward_move_needs_a_reason(api_as, rep):
    api = api_as(rep)
    contact = api.post("/api/contacts", {"email": "ann@acme.com", "lifecycle_stage": "sql"}).json()
    errors = errors_by_field(api.post(f"/api/contacts/{contact['id']}/stage", {"lifecycle_stage": "mql"}))
    assert "needs a reason" in errors["lifecycle_stage"]
    assert Contact.objects.get().lifecycle_stage == "sql"
    assert StageChange.objects.count() == 1

    moved = api.post(f"/api/contacts/{contact['id']}/stage", {"lifecycle_stage": "mql", "reason": "no budget yet"})
    assert moved.status_code == 200
    assert moved.json()["stage_change"]["reason"] == "no budget yet"


def test_an_unknown_stage_is_refused_by_name(api_as, rep):
    api = api_as(rep)
    contact = api.post("/api/contacts", {"email": "ann@acme.com"}).json()
    assert "lifecycle_stage" in errors_by_field(api.post(f"/api/contacts/{contact['id']}/stage", {"lifecycle_stage": "warm"}))


def test_a_role_without_the_permission_gets_403_and_changes_nothing(api_as, db):
    visitor = make_user(Role.SALES)
    visitor.role = "guest"  # a role that grants nothing
    visitor.save()
    api = api_as(visitor)
    assert api.get("/api/contacts").status_code == 403
    assert api.post("/api/contacts", {"email": "a@b.co"}).status_code == 403
    assert api.post("/api/accounts", {"name": "Acme"}).status_code == 403
    assert Contact.objects.count() == Account.objects.count() == 0


def test_a_body_that_is_not_a_json_object_is_refused_as_a_whole(api_as, rep):
    for raw in ("[1, 2]", '"ann@acme.com"', ""):
        response = api_as(rep).post("/api/contacts", raw=raw)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body"]
    assert Contact.objects.count() == 0
