from __future__ import annotations

from datetime import timedelta

import pytest

from accord.campaigns.models import Touchpoint
from accord.core.clock import now
from accord.core.schemas import MAX_PAGE_SIZE
from accord.crm.models import Account, Contact, ContactInterest
from tests.api.conftest import errors_by_field, make_campaign

pytestmark = pytest.mark.django_db


def make_contacts(count: int, *, owner=None, stage="lead", account=None, prefix="p", created_at=None):
    moment = created_at or now()
    contacts = [
        Contact(
            email=f"{prefix}{i}@acme.com",
            first_name=f"{prefix.title()}{i}",
            lifecycle_stage=stage,
            owner=owner,
            account=account,
            created_at=moment - timedelta(seconds=i),
            updated_at=moment,
        )
        for i in range(count)
    ]
    Contact.objects.bulk_create(contacts)
    return list(Contact.objects.filter(email__startswith=prefix).order_by("-created_at"))


def test_the_contact_list_is_paginated_with_a_count(api_as, rep):
    make_contacts(7)
    api = api_as(rep)
    first = api.get("/api/contacts", {"limit": 3}).json()
    assert first["count"] == 7 and first["limit"] == 3 and first["offset"] == 0
    assert [c["email"] for c in first["items"]] == ["p0@acme.com", "p1@acme.com", "p2@acme.com"]
    last = api.get("/api/contacts", {"limit": 3, "offset": 6}).json()
    assert [c["email"] for c in last["items"]] == ["p6@acme.com"] and last["count"] == 7
    beyond = api.get("/api/contacts", {"limit": 3, "offset": 30}).json()
    assert beyond["items"] == [] and beyond["count"] == 7


def test_the_page_size_has_a_maximum(api_as, rep):
    errors = errors_by_field(api_as(rep).get("/api/contacts", {"limit": MAX_PAGE_SIZE + 1, "offset": -1}))
    assert set(errors) == {"limit", "offset"}


def test_the_contact_list_filters_by_stage_owner_campaign_created_and_text(api_as, rep, marketer):
    acme = Account.objects.create(name="Acme Corp", created_at=now(), updated_at=now())
    mine = make_contacts(2, owner=rep, stage="mql", prefix="mine", account=acme)
    theirs = make_contacts(2, owner=marketer, stage="sql", prefix="theirs")
    old = make_contacts(1, prefix="old", created_at=now() - timedelta(days=40))
    campaign = make_campaign(name="Webinar")
    Touchpoint.objects.create(contact=theirs[0], campaign=campaign, kind="webinar", team="marketing",
                              occurred_at=now(), created_at=now())
    api = api_as(rep)

    def emails(**params):
        response = api.get("/api/contacts", params)
        assert response.status_code == 200, response.content
        return {c["email"] for c in response.json()["items"]}

    assert emails(stage="mql") == {c.email for c in mine}
    assert emails(stage="mql,sql") == {c.email for c in mine + theirs}
    assert emails(owner=marketer.id) == {c.email for c in theirs}
    assert emails(owner="none") == {old[0].email}
    assert emails(campaign=campaign.id) == {theirs[0].email}
    assert emails(q="acme corp") == {c.email for c in mine}
    assert emails(created_to=(now() - timedelta(days=30)).date().isoformat()) == {old[0].email}
    assert old[0].email not in emails(created_from=(now() - timedelta(days=1)).date().isoformat())


def test_a_bad_filter_is_named_as_a_query_field(api_as, rep):
    response = api_as(rep).get("/api/contacts", {"stage": "hot", "created_from": "yesterday", "owner": "x"})
    assert response.status_code == 422
    locs = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert locs == {("query", "stage"), ("query", "created_from"), ("query", "owner")}


def test_the_contact_list_runs_a_fixed_number_of_queries(api_as, rep, marketer, django_assert_max_num_queries):
    acme = Account.objects.create(name="Acme", created_at=now(), updated_at=now())
    contacts = make_contacts(30, owner=rep, account=acme) + make_contacts(20, owner=marketer, prefix="q")
    ContactInterest.objects.bulk_create(
        [ContactInterest(contact=c, name=tag, added_at=now()) for c in contacts for tag in ("sso", "api")]
    )
    api = api_as(rep)
    api.get("/api/contacts")  # the token's last use is written once a minute, not per request
    # token lookup, page, interests; the count is skipped when the page is not full
    with django_assert_max_num_queries(4):
        response = api.get("/api/contacts", {"limit": 100})
    assert len(response.json()["items"]) == 50
    assert all(item["interests"] == ["api", "sso"] for item in response.json()["items"])
    with django_assert_max_num_queries(5):
        assert len(api.get("/api/contacts", {"limit": 10}).json()["items"]) == 10
