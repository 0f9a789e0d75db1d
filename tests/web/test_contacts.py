from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from accord.campaigns.models import Touchpoint
from accord.core.clock import now
from accord.crm.models import Contact, StageChange
from accord.crm.services import ContactFields, contact_create
from tests.conftest import PASSWORD
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def make_contacts(n, *, actor, **values):
    return [
        contact_create(fields=ContactFields(values={"first_name": f"P{i}", "last_name": "Person", "email": f"p{i}@x.test", **values}), actor=actor)
        for i in range(n)
    ]


def test_the_contact_list_filters_by_stage_and_search(client, rep, contact):
    make_contacts(3, actor=rep)
    signed_in(client, rep)
    page = client.get("/contacts/", {"q": "ana"}).content.decode()
    assert "Ana Lopez" in page and "P1 Person" not in page
    assert "Ana Lopez" not in client.get("/contacts/", {"stage": "customer"}).content.decode()


def test_the_contact_list_filters_by_campaign_owner_and_score(client, rep, contact, campaign):
    others = make_contacts(2, actor=rep)
    Contact.objects.filter(pk=others[0].pk).update(score=80)
    signed_in(client, rep)
    assert "P0 Person" not in client.get("/contacts/", {"campaign": campaign.pk}).content.decode()
    assert "Ana Lopez" in client.get("/contacts/", {"owner": rep.pk}).content.decode()
    page = client.get("/contacts/", {"min_score": 50}).content.decode()
    assert "P0 Person" in page and "P1 Person" not in page


def test_the_contact_list_sorts_by_score(client, rep):
    low, high = make_contacts(2, actor=rep)
    Contact.objects.filter(pk=high.pk).update(score=99)
    Contact.objects.filter(pk=low.pk).update(score=5)
    page = signed_in(client, rep).get("/contacts/", {"sort": "score"}).content.decode()
    assert page.index("P1 Person") < page.index("P0 Person")


def test_the_contact_list_is_paginated_and_keeps_the_filter_in_page_links(client, rep, settings):
    settings.ACCORD_PAGE_SIZE = 5
    make_contacts(12, actor=rep)
    page = signed_in(client, rep).get("/contacts/", {"q": "person"}).content.decode()
    assert "Page 1 of 3" in page
    assert "?q=person&amp;page=2" in page
    assert "Page 3 of 3" in client.get("/contacts/", {"q": "person", "page": 3}).content.decode()


def test_a_bad_filter_value_is_named_not_a_crash(client, rep):
    response = signed_in(client, rep).get("/contacts/", {"created_from": "yesterday", "stage": "nope"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "created_from" in body and "is not a date" in body
    assert "stage" in body and "is not a lifecycle stage" in body


def test_the_contact_list_runs_a_fixed_number_of_queries(client, rep, django_assert_max_num_queries):
    make_contacts(30, actor=rep, owner=rep)
    signed_in(client, rep)
    with django_assert_max_num_queries(8):
        assert client.get("/contacts/", {"owner": rep.pk, "sort": "score"}).status_code == 200


def test_the_360_page_shows_profile_owner_history_deals_interests_and_both_teams_timeline(client, marketer, contact, deal):
    page = signed_in(client, marketer).get(f"/contacts/{contact.pk}/").content.decode()
    assert "Acme Corp" in page and "Sam" in page
    assert "sso" in page
    assert "Acme platform" in page
    assert "Attended the spring webinar" in page and "Discovery call" in page
    assert 'class="badge badge-marketing">Marketing' in page and 'class="badge badge-sales">Sales' in page
    assert "Lead" in page and "Opportunity" in page  # the stage history


def test_the_360_page_runs_a_fixed_number_of_queries(client, rep, marketer, contact, deal, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.crm.panels import contact_panels

    def add_touchpoints(count):
        for i in range(count):
            Touchpoint.objects.create(contact=contact, kind="page_visit", team="marketing", occurred_at=now() - timedelta(hours=i), created_at=now(), actor=marketer)

    signed_in(client, rep)
    add_touchpoints(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    add_touchpoints(20)
    # The page's own queries, plus a handful per panel other capabilities register; never per row.
    budget = 12 + 5 * len(contact_panels(contact, rep))
    with django_assert_max_num_queries(budget) as many:
        assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    assert len(many) == len(few)


def test_a_missing_contact_is_a_404(client, rep):
    assert signed_in(client, rep).get("/contacts/999999/").status_code == 404


def test_html_in_names_and_notes_is_shown_as_text(client, rep):
    evil = contact_create(fields=ContactFields(values={"first_name": "<script>alert(1)</script>", "last_name": "<b>X</b>"}), actor=rep)
    signed_in(client, rep)
    client.post(f"/contacts/{evil.pk}/touchpoints/", {"kind": "note", "body": "<img src=x onerror=alert(2)>"})
    page = client.get(f"/contacts/{evil.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    listing = client.get("/contacts/").content.decode()
    assert "<b>X</b>" not in listing and "&lt;b&gt;X&lt;/b&gt;" in listing


def test_logging_a_call_adds_it_to_the_timeline_on_the_users_team(client, marketer, contact):
    signed_in(client, marketer)
    response = client.post(f"/contacts/{contact.pk}/touchpoints/", {"kind": "meeting", "subject": "Booth chat", "body": "Met at the fair"})
    assert response.status_code == 302
    logged = Touchpoint.objects.get(contact=contact, subject="Booth chat")
    assert (logged.kind, logged.team, logged.actor) == ("meeting", "marketing", marketer)


def test_logging_rejects_an_empty_note_a_future_time_and_an_unknown_kind(client, rep, contact):
    signed_in(client, rep)
    before = Touchpoint.objects.count()
    empty = client.post(f"/contacts/{contact.pk}/touchpoints/", {"kind": "note"})
    assert empty.status_code == 400 and "say what happened" in empty.content.decode()
    future = (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    later = client.post(f"/contacts/{contact.pk}/touchpoints/", {"kind": "call", "subject": "x", "occurred_at": future})
    assert later.status_code == 400 and "is in the future" in later.content.decode()
    odd = client.post(f"/contacts/{contact.pk}/touchpoints/", {"kind": "ad_click", "subject": "x"})
    assert odd.status_code == 400 and "Select a valid choice" in odd.content.decode()
    assert Touchpoint.objects.count() == before


def test_changing_the_stage_forward_is_recorded_with_who_moved_it(client, rep, contact):
    signed_in(client, rep)
    assert client.post(f"/contacts/{contact.pk}/stage/", {"to_stage": "mql"}).status_code == 302
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "mql"
    assert StageChange.objects.filter(contact=contact, to_stage="mql", changed_by=rep).exists()


def test_a_backward_move_without_a_reason_is_refused_and_changes_nothing(client, rep, contact):
    signed_in(client, rep)
    client.post(f"/contacts/{contact.pk}/stage/", {"to_stage": "sql"})
    response = client.post(f"/contacts/{contact.pk}/stage/", {"to_stage": "lead", "reason": "  "})
    assert response.status_code == 400
    assert "needs a reason" in response.content.decode()
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "sql"
    assert client.post(f"/contacts/{contact.pk}/stage/", {"to_stage": "recycled", "reason": "No budget this year"}).status_code == 302
    assert StageChange.objects.filter(contact=contact, to_stage="recycled", reason="No budget this year").exists()


def test_forms_on_the_360_page_need_the_csrf_token(rep, contact):
    strict = Client(enforce_csrf_checks=True)
    strict.login(username=rep.username, password=PASSWORD)
    page = strict.get(f"/contacts/{contact.pk}/").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 3  # stage, log, sign out
    assert strict.post(f"/contacts/{contact.pk}/stage/", {"to_stage": "mql"}).status_code == 403
    assert strict.post(f"/contacts/{contact.pk}/touchpoints/", {"kind": "note", "body": "x"}).status_code == 403


def test_editing_a_contact_normalizes_and_names_bad_fields(client, rep, contact):
    signed_in(client, rep)
    form = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert 'value="ana@acme.test"' in form and 'value="sso"' in form
    bad = client.post(f"/contacts/{contact.pk}/edit/", {"first_name": "Ana", "email": "not-an-email", "phone": "12", "country": "Germany"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "is not a valid email address" in body and "not a possible phone number" in body and "two-letter" in body
    contact.refresh_from_db()
    assert contact.email == "ana@acme.test"
    good = client.post(f"/contacts/{contact.pk}/edit/", {"first_name": "Ana", "last_name": "Lopez", "email": " ANA.L@Acme.test ", "phone": "(415) 555-0100", "country": "us", "interests": "sso, pricing"})
    assert good.status_code == 302
    contact.refresh_from_db()
    assert (contact.email, contact.phone, contact.country) == ("ana.l@acme.test", "+14155550100", "US")
    assert sorted(contact.interests.values_list("name", flat=True)) == ["pricing", "sso"]


def test_editing_to_an_email_another_contact_has_is_refused(client, rep, contact):
    contact_create(fields=ContactFields(values={"email": "taken@x.test"}), actor=rep)
    response = signed_in(client, rep).post(f"/contacts/{contact.pk}/edit/", {"first_name": "Ana", "email": "taken@x.test"})
    assert response.status_code == 400 and "already has the address" in response.content.decode()
