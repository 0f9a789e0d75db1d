"""Accounts, opportunities, campaigns and touchpoints: create, read, update, list, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.crm.models import Contact, Opportunity
from tests.api.conftest import errors_by_field, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(api_as, rep):
    return api_as(rep).post("/api/contacts", {"email": "ann@acme.com", "first_name": "Ann"}).json()


def test_accounts_are_created_updated_listed_and_filtered(api_as, rep):
    api = api_as(rep)
    acme = api.post("/api/accounts", {"name": "Acme", "industry": "Software", "country": "de", "employee_count": 120,
                                      "annual_revenue": "1500000.50", "owner_id": rep.id})
    assert acme.status_code == 201, acme.content
    assert acme.json()["country"] == "DE" and acme.json()["annual_revenue"] == "1500000.50"
    api.post("/api/accounts", {"name": "Globex"})
    updated = api.patch(f"/api/accounts/{acme.json()['id']}", {"website": "https://acme.example"})
    assert updated.json()["website"] == "https://acme.example" and updated.json()["name"] == "Acme"
    assert [a["name"] for a in api.get("/api/accounts", {"q": "acm"}).json()["items"]] == ["Acme"]
    assert [a["name"] for a in api.get("/api/accounts", {"owner": "none"}).json()["items"]] == ["Globex"]
    errors = errors_by_field(api.post("/api/accounts", {"name": "", "domain": "not a domain", "employee_count": -1,
                                                        "annual_revenue": "1e30", "country": "Germany"}))
    assert set(errors) == {"name", "domain", "employee_count", "annual_revenue", "country"}
    assert "name" in errors_by_field(api.patch(f"/api/accounts/{acme.json()['id']}", {"name": None}))


def test_opportunities_open_close_and_move_their_contact(api_as, rep, contact):
    api = api_as(rep)
    created = api.post("/api/opportunities", {"name": "Acme expansion", "primary_contact_id": contact["id"],
                                              "amount": "12000", "currency": "eur", "close_date": "2027-01-31"})
    assert created.status_code == 201, created.content
    deal = created.json()
    assert deal["amount"] == "12000.00" and deal["currency"] == "EUR" and deal["stage"] == "prospecting"
    assert Contact.objects.get(pk=contact["id"]).lifecycle_stage == "opportunity"

    assert "lost_reason" in errors_by_field(api.patch(f"/api/opportunities/{deal['id']}", {"stage": "lost"}))
    assert Opportunity.objects.get().stage == "prospecting"

    won = api.patch(f"/api/opportunities/{deal['id']}", {"stage": "won"})
    assert won.json()["closed_at"] is not None
    assert Contact.objects.get(pk=contact["id"]).lifecycle_stage == "customer"
    assert [d["name"] for d in api.get("/api/opportunities", {"stage": "won"}).json()["items"]] == ["Acme expansion"]
    assert api.get("/api/opportunities", {"stage": "open"}).json()["count"] == 0


def test_opportunity_input_is_checked_field_by_field(api_as, rep):
    errors = errors_by_field(api_as(rep).post("/api/opportunities", {"amount": "-5", "currency": "euro",
                                                                      "stage": "maybe", "close_date": "soon"}))
    assert set(errors) == {"name", "amount", "currency", "stage", "close_date"}
    errors = errors_by_field(api_as(rep).post("/api/opportunities", {"name": "X", "amount": "12.345"}))
    assert set(errors) == {"amount"}
    assert Opportunity.objects.count() == 0


def test_marketing_may_not_manage_opportunities_and_sales_may_not_manage_campaigns(api_as, rep, marketer):
    assert api_as(marketer).post("/api/opportunities", {"name": "X"}).status_code == 403
    assert api_as(rep).post("/api/campaigns", {"name": "X"}).status_code == 403
    campaign = make_campaign(name="Spring")
    assert api_as(rep).patch(f"/api/campaigns/{campaign.id}", {"name": "Y"}).status_code == 403
    assert Campaign.objects.get().name == "Spring" and Opportunity.objects.count() == 0
    assert api_as(rep).get("/api/campaigns").status_code == 200


def test_campaigns_are_created_updated_and_filtered(api_as, marketer):
    api = api_as(marketer)
    created = api.post("/api/campaigns", {"name": "Spring webinar", "channel": "webinar", "status": "active",
                                          "utm_campaign": "Spring-Webinar", "budget": "5000", "actual_cost": "4200.5",
                                          "start_date": "2026-03-01", "end_date": "2026-03-31"})
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["utm_campaign"] == "spring-webinar" and campaign["actual_cost"] == "4200.50"
    api.post("/api/campaigns", {"name": "Newsletter", "channel": "email"})
    assert [c["name"] for c in api.get("/api/campaigns", {"channel": "webinar"}).json()["items"]] == ["Spring webinar"]
    assert [c["name"] for c in api.get("/api/campaigns", {"active_on": "2026-03-15", "status": "active"}).json()["items"]] == ["Spring webinar"]

    errors = errors_by_field(api.post("/api/campaigns", {"name": "Copy", "utm_campaign": "spring-webinar"}))
    assert "utm_campaign" in errors
    errors = errors_by_field(api.patch(f"/api/campaigns/{campaign['id']}", {"end_date": "2026-02-01"}))
    assert "end_date" in errors
    errors = errors_by_field(api.post("/api/campaigns", {"name": "X", "channel": "tv", "budget": "a lot"}))
    assert set(errors) == {"channel", "budget"}
    assert Campaign.objects.count() == 2
    assert api.patch(f"/api/campaigns/{campaign['id']}", {"status": "completed"}).json()["status"] == "completed"


def test_touchpoints_are_appended_listed_and_read_but_never_changed(api_as, rep, contact):
    api = api_as(rep)
    campaign = make_campaign(name="Spring", channel="webinar")
    earlier = (now() - timedelta(days=3)).isoformat()
    created = api.post("/api/campaigns/touchpoints", {"contact_id": contact["id"], "kind": "call",
                                                      "subject": "Intro call", "body": "<b>keen</b>", "occurred_at": earlier})
    assert created.status_code == 201, created.content
    call = created.json()
    assert call["team"] == "sales" and call["channel"] == "sales" and call["body"] == "<b>keen</b>"
    api.post("/api/campaigns/touchpoints", {"contact_id": contact["id"], "kind": "webinar", "campaign_id": campaign.id})

    stored = Contact.objects.get(pk=contact["id"])
    assert stored.latest_touch_campaign == campaign and stored.latest_touch_channel == "webinar"
    assert stored.first_touch_channel == "sales"

    listed = api.get("/api/campaigns/touchpoints", {"contact": contact["id"]}).json()
    assert [t["kind"] for t in listed["items"]] == ["webinar", "call"]
    assert [t["kind"] for t in api.get("/api/campaigns/touchpoints", {"team": "sales", "kind": "call"}).json()["items"]] == ["call"]
    assert api.get(f"/api/campaigns/touchpoints/{call['id']}").json()["subject"] == "Intro call"
    assert api.patch(f"/api/campaigns/touchpoints/{call['id']}", {"subject": "x"}).status_code == 405


def test_touchpoint_input_is_checked_field_by_field(api_as, rep):
    errors = errors_by_field(api_as(rep).post("/api/campaigns/touchpoints", {"contact_id": 999, "kind": "call",
                                                                             "campaign_id": 999}))
    assert set(errors) == {"contact_id", "campaign_id"}
    errors = errors_by_field(api_as(rep).post("/api/campaigns/touchpoints", {"kind": "smoke signal",
                                                                             "occurred_at": "yesterday"}))
    assert set(errors) == {"contact_id", "kind", "occurred_at"}
    assert Touchpoint.objects.count() == 0


def test_other_lists_run_a_fixed_number_of_queries(api_as, rep, marketer, contact, django_assert_max_num_queries):
    campaigns = [make_campaign(name=f"C{i}", owner=marketer) for i in range(15)]
    moment = now()
    Touchpoint.objects.bulk_create(
        [Touchpoint(contact_id=contact["id"], campaign=c, actor=rep, kind="call", team="sales",
                    occurred_at=moment, created_at=moment) for c in campaigns]
    )
    Opportunity.objects.bulk_create(
        [Opportunity(name=f"D{i}", owner=rep, primary_contact_id=contact["id"], created_at=moment, updated_at=moment)
         for i in range(15)]
    )
    api = api_as(rep)
    api.get("/api/campaigns")
    for path in ("/api/campaigns", "/api/campaigns/touchpoints", "/api/opportunities", "/api/accounts"):
        with django_assert_max_num_queries(4):
            assert api.get(path, {"limit": 10}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/contacts", {"email": "ann@acme.com"}, Contact),
        ("/api/accounts", {"name": "Acme"}, "crm.Account"),
        ("/api/opportunities", {"name": "Deal"}, Opportunity),
        ("/api/campaigns", {"name": "Spring"}, Campaign),
    ],
)
def test_every_create_replays_on_a_retry_with_the_same_key(api_as, manager, path, body, model):
    from django.apps import apps

    model = apps.get_model(model) if isinstance(model, str) else model
    api = api_as(manager)
    first = api.post(path, body, headers={"Idempotency-Key": "once"})
    retry = api.post(path, body, headers={"Idempotency-Key": "once"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert model.objects.count() == 1


def test_a_touchpoint_retried_with_the_same_key_is_recorded_once(api_as, rep, contact):
    api = api_as(rep)
    body = {"contact_id": contact["id"], "kind": "meeting", "subject": "Demo"}
    for _ in range(2):
        assert api.post("/api/campaigns/touchpoints", body, headers={"Idempotency-Key": "m-1"}).status_code == 201
    assert Touchpoint.objects.filter(kind="meeting").count() == 1
