from __future__ import annotations

from decimal import Decimal

import pytest

from accord.crm.models import Opportunity
from accord.crm.panels import register_account_panel, register_contact_panel, register_home_panel, unregister_panel
from accord.crm.services import ContactFields, contact_create, opportunity_create
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_home_shows_my_contacts_my_deals_and_stage_counts(client, rep, contact, deal):
    page = signed_in(client, rep).get("/").content.decode()
    assert "Ana Lopez" in page and "Acme platform" in page
    assert "<svg" in page and "Contacts by lifecycle stage" in page


def test_the_account_list_searches_and_counts_people(client, rep, contact):
    page = signed_in(client, rep).get("/accounts/", {"q": "acme"}).content.decode()
    assert "Acme Corp" in page
    assert "Acme Corp" not in client.get("/accounts/", {"q": "globex"}).content.decode()


def test_the_account_page_shows_people_deals_and_one_combined_timeline(client, rep, marketer, account, contact, deal):
    colleague = contact_create(fields=ContactFields(values={"first_name": "Bo", "email": "bo@acme.test", "account": account}), actor=rep)
    from accord.campaigns.services import touchpoint_log

    touchpoint_log(contact=colleague, kind="sales_email", actor=rep, subject="Intro to Bo")
    page = signed_in(client, marketer).get(f"/accounts/{account.pk}/").content.decode()
    assert "Ana Lopez" in page and "Bo" in page and "Acme platform" in page
    assert "Attended the spring webinar" in page and "Intro to Bo" in page


def test_the_account_page_runs_a_fixed_number_of_queries(client, rep, account, contact, deal, django_assert_max_num_queries):
    for i in range(10):
        contact_create(fields=ContactFields(values={"first_name": f"N{i}", "email": f"n{i}@acme.test", "account": account, "owner": rep}), actor=rep)
    signed_in(client, rep)
    with django_assert_max_num_queries(12):
        assert client.get(f"/accounts/{account.pk}/").status_code == 200


def test_the_board_has_a_column_per_stage_with_counts_and_totals(client, rep, contact, deal):
    opportunity_create(values={"name": "Lost one", "amount": Decimal("100"), "stage": "lost", "lost_reason": "Went with a rival", "owner": rep}, actor=rep)
    page = signed_in(client, rep).get("/opportunities/").content.decode()
    for column in ("prospecting", "qualification", "proposal", "negotiation", "won", "lost"):
        assert f'id="column-{column}"' in page
    proposal = page[page.index('id="column-proposal"'):page.index('id="column-negotiation"')]
    assert "Acme platform" in proposal and "5,000" in proposal
    assert "Went with a rival" in page


def test_the_board_runs_a_fixed_number_of_queries(client, rep, django_assert_max_num_queries):
    for i in range(30):
        opportunity_create(values={"name": f"D{i}", "amount": Decimal(i), "stage": ["prospecting", "proposal", "won"][i % 3], "owner": rep}, actor=rep)
    signed_in(client, rep)
    with django_assert_max_num_queries(12):
        assert client.get("/opportunities/").status_code == 200


def test_a_rep_opens_a_deal_for_a_contact_and_it_moves_the_contact_on(client, rep, contact):
    signed_in(client, rep)
    form = client.get("/opportunities/new/", {"contact": contact.pk}).content.decode()
    assert "Acme Corp deal" in form
    response = client.post("/opportunities/new/", {
        "name": "Acme expansion", "primary_contact": contact.pk, "amount": "12000", "currency": "eur", "stage": "qualification", "owner": rep.pk,
    })
    assert response.status_code == 302
    deal = Opportunity.objects.get(name="Acme expansion")
    assert (deal.currency, deal.account_id) == ("EUR", contact.account_id)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "opportunity"


def test_closing_a_deal_as_lost_needs_a_reason(client, rep, deal):
    signed_in(client, rep)
    values = {"name": deal.name, "amount": "5000", "currency": "USD", "stage": "lost", "primary_contact": deal.primary_contact_id}
    refused = client.post(f"/opportunities/{deal.pk}/", values)
    assert refused.status_code == 400 and "say why the deal was lost" in refused.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "proposal"
    assert client.post(f"/opportunities/{deal.pk}/", {**values, "lost_reason": "Budget cut"}).status_code == 302
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("lost", "Budget cut")
    assert deal.closed_at is not None


def test_winning_a_deal_makes_the_contact_a_customer(client, rep, deal):
    signed_in(client, rep)
    values = {"name": deal.name, "amount": "5000", "currency": "USD", "stage": "won", "primary_contact": deal.primary_contact_id}
    assert client.post(f"/opportunities/{deal.pk}/", values).status_code == 302
    deal.primary_contact.refresh_from_db()
    assert deal.primary_contact.lifecycle_stage == "customer"


def test_deal_form_names_bad_amounts_and_unknown_contacts(client, rep):
    response = signed_in(client, rep).post("/opportunities/new/", {"name": "X", "amount": "lots", "currency": "US", "stage": "nope", "primary_contact": "999999"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a number" in body and "no contact has this id" in body and "Select a valid choice" in body
    assert not Opportunity.objects.exists()


def test_marketing_may_look_at_deals_but_not_open_or_change_them(client, marketer, deal):
    signed_in(client, marketer)
    assert client.get("/opportunities/new/").status_code == 403
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "5,000.00 USD" in page and "may look at deals but not change them" in page
    assert client.post(f"/opportunities/{deal.pk}/", {"name": "hijack", "amount": "1", "currency": "USD", "stage": "won"}).status_code == 403
    deal.refresh_from_db()
    assert deal.name == "Acme platform"


def test_panels_registered_by_other_apps_appear_on_the_contact_and_account_pages(client, rep, contact, account, tmp_path, settings):
    (tmp_path / "demo_panel.html").write_text('<section class="card" id="demo-panel">score says {{ panel.word }} for {{ contact.first_name }}{{ account.name }}</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    register_contact_panel("demo_panel.html", lambda c, u: {"word": "<hot>"}, order=10)
    register_account_panel("demo_panel.html", lambda a, u: None if u.role == "marketing" else {"word": "warm"})
    try:
        signed_in(client, rep)
        page = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert "score says &lt;hot&gt; for Ana" in page
        assert "score says warm for Acme Corp" in client.get(f"/accounts/{account.pk}/").content.decode()
    finally:
        unregister_panel("demo_panel.html")
    assert "demo-panel" not in client.get(f"/contacts/{contact.pk}/").content.decode()


def test_the_account_list_runs_a_fixed_number_of_queries_and_names_bad_filters(client, rep, account, contact, django_assert_max_num_queries):
    signed_in(client, rep)
    with django_assert_max_num_queries(6):
        assert client.get("/accounts/", {"sort": "contacts"}).status_code == 200
    bad = client.get("/accounts/", {"created_from": "soon"})
    assert bad.status_code == 400 and "created_from" in bad.content.decode()


def test_the_board_filters_by_owner_and_the_list_pages_one_stage(client, rep, manager, deal):
    opportunity_create(values={"name": "Mona deal", "amount": Decimal("1"), "stage": "proposal", "owner": manager}, actor=manager)
    signed_in(client, rep)
    board = client.get("/opportunities/", {"owner": rep.pk}).content.decode()
    assert "Acme platform" in board and "Mona deal" not in board
    listing = client.get("/opportunities/list/", {"stage": "proposal"}).content.decode()
    assert "Acme platform" in listing and "Mona deal" in listing
    assert client.get("/opportunities/list/", {"stage": "nope"}).status_code == 400


def test_home_cards_registered_by_other_apps_appear_for_whom_they_say(client, rep, marketer, tmp_path, settings):
    (tmp_path / "due.html").write_text('<section class="card" id="due">{{ panel.n }} handoffs due</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    register_home_panel("due.html", lambda user: {"n": 3} if user.role == "sales" else None)
    try:
        assert "3 handoffs due" in signed_in(client, rep).get("/").content.decode()
        assert "handoffs due" not in signed_in(client, marketer).get("/").content.decode()
    finally:
        unregister_panel("due.html")


def test_home_runs_a_fixed_number_of_queries(client, rep, contact, deal, django_assert_max_num_queries):
    signed_in(client, rep)
    # The page's own queries plus the cards other capabilities add (handoffs due, action items).
    with django_assert_max_num_queries(16):
        assert client.get("/").status_code == 200
