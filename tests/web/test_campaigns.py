from __future__ import annotations

from decimal import Decimal

import pytest

from accord.campaigns.models import Campaign
from accord.crm.services import opportunity_create
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_campaign_page_shows_leads_pipeline_won_revenue_and_cost_per_lead(client, rep, campaign, contact, deal):
    opportunity_create(values={"name": "Acme pilot", "primary_contact": contact, "amount": Decimal("2500"), "stage": "won"}, actor=rep)
    page = signed_in(client, rep).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="lead-count">1<' in page
    assert 'id="cost-per-lead">1000.00<' in page
    assert 'id="pipeline">5,000.00' in page
    assert 'id="won">2,500.00' in page
    assert "Ana Lopez" in page
    assert page.count("<svg") >= 2


def test_the_campaign_list_shows_results_per_campaign_with_charts(client, marketer, campaign, contact, deal, django_assert_max_num_queries):
    signed_in(client, marketer)
    with django_assert_max_num_queries(8):
        page = client.get("/campaigns/").content.decode()
    assert "Spring webinar" in page and "1000.00" in page and "5,000" in page
    assert "Leads brought per campaign" in page


def test_marketing_creates_and_edits_a_campaign(client, marketer):
    signed_in(client, marketer)
    response = client.post("/campaigns/new/", {
        "name": "Fall ads", "channel": "paid_search", "status": "active", "utm_campaign": "Fall-Ads",
        "start_date": "2026-09-01", "end_date": "2026-10-01", "budget": "5000", "actual_cost": "4200.50", "currency": "usd",
    })
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Fall ads")
    assert (campaign.utm_campaign, campaign.actual_cost, campaign.currency) == ("fall-ads", Decimal("4200.50"), "USD")
    values = {"name": "Fall ads 2", "channel": "paid_search", "status": "completed", "currency": "USD", "utm_campaign": "fall-ads"}
    assert client.post(f"/campaigns/{campaign.pk}/edit/", values).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Fall ads 2", "completed")


def test_campaign_form_names_bad_dates_costs_and_taken_utm_values(client, marketer, campaign):
    signed_in(client, marketer)
    response = client.post("/campaigns/new/", {
        "name": "X", "channel": "email", "status": "planned", "currency": "USD", "utm_campaign": "SPRING",
        "start_date": "2026-05-01", "end_date": "2026-04-01", "actual_cost": "-3",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "is before the start date" in body and "greater than or equal to 0" in body
    again = client.post("/campaigns/new/", {"name": "X", "channel": "email", "status": "planned", "currency": "USD", "utm_campaign": "SPRING"})
    assert again.status_code == 400 and "already uses utm_campaign" in again.content.decode()
    assert Campaign.objects.count() == 1


def test_sales_may_read_campaigns_but_not_create_them(client, rep, campaign):
    signed_in(client, rep)
    assert client.get("/campaigns/").status_code == 200
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/edit/", {"name": "hijack"}).status_code == 403


def test_campaign_names_are_escaped_in_lists_and_charts(client, marketer):
    from accord.campaigns.services import campaign_create

    campaign_create(values={"name": "<i>Promo</i>", "channel": "email"}, actor=marketer)
    page = signed_in(client, marketer).get("/campaigns/").content.decode()
    assert "<i>Promo</i>" not in page and "&lt;i&gt;Promo&lt;/i&gt;" in page


def test_the_campaign_page_runs_a_fixed_number_of_queries(client, rep, campaign, contact, deal, django_assert_max_num_queries):
    signed_in(client, rep)
    with django_assert_max_num_queries(10):
        assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200


def test_a_bad_campaign_filter_is_named(client, rep):
    response = signed_in(client, rep).get("/campaigns/", {"channel": "carrier-pigeon"})
    assert response.status_code == 400 and "channel" in response.content.decode()
