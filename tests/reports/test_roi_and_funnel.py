"""Campaign ROI under each model, and the funnel's conversion and time in stage."""

from __future__ import annotations

from datetime import date

import pytest

from accord.reports.queries import Period, funnel, models_side_by_side, roi_table
from accord.reports.services import snapshots_refresh

from . import factories as f

pytestmark = pytest.mark.django_db
MARCH = Period(date(2026, 3, 1), date(2026, 3, 1))
MARCH_PARAMS = "period=custom&from=2026-03&to=2026-03"


@pytest.fixture
def data(monkeypatch):
    monkeypatch.setattr("accord.reports.services.clock_now", lambda: f.at(25))
    monkeypatch.setattr("accord.reports.queries.clock_now", lambda: f.at(25))
    webinar = f.campaign("Webinar", channel="webinar", cost=2000, start=date(2026, 3, 1), end=date(2026, 3, 31))
    free = f.campaign("Newsletter", channel="email", cost=None)
    euro = f.campaign("Paris event", channel="event", cost=5000, currency="EUR")
    acme = f.account("Acme", employees=300)
    # Contact times in hours so the funnel's medians are easy to check:
    # A: lead d0 → MQL d1 → SQL d3; B: lead d0 → MQL d2 → recycled d6; C: lead d0 → MQL d4.
    a = f.contact(account=acme, stages=(("lead", 0), ("mql", 1), ("sql", 3)), source="webinar", first_campaign=webinar)
    b = f.contact(stages=(("lead", 0), ("mql", 2), ("recycled", 6)), source="email", first_campaign=free)
    c = f.contact(stages=(("lead", 0), ("mql", 4)), source="email")
    f.touch(a, 0, campaign=webinar)
    f.touch(a, 0.5, campaign=free)
    f.touch(b, 0, campaign=free)
    f.touch(c, 0, campaign=euro)
    f.touch(c, 0.2)  # neither campaign nor channel: counted as "other"
    f.opportunity(contact=a, account=acme, amount=8000, stage="won", created=5, closed=10)
    snapshots_refresh()
    return webinar, free, euro


def test_roi_uses_the_chosen_model_and_shows_missing_costs_as_such(data):
    webinar, free, euro = data
    first = roi_table(model="first_touch", period=MARCH)
    rows = {row.campaign_id: row for row in first.campaigns}
    assert rows[webinar.id].revenue == pytest.approx(8000)
    assert rows[webinar.id].cost == pytest.approx(2000)
    assert rows[webinar.id].roi == pytest.approx(3.0)
    assert rows[webinar.id].cost_per_lead == pytest.approx(2000)
    assert rows[webinar.id].cost_per_opportunity == pytest.approx(2000)
    assert rows[free.id].cost is None and rows[free.id].cost_note == "no cost recorded"
    assert rows[free.id].roi is None and rows[free.id].cost_per_lead is None
    assert rows[euro.id].cost is None and "EUR" in rows[euro.id].cost_note
    assert first.counts["campaigns_without_cost"] == 1
    assert first.counts["campaigns_other_currency"] == 1
    linear = {row.campaign_id: row for row in roi_table(model="linear", period=MARCH).campaigns}
    assert linear[webinar.id].revenue == pytest.approx(4000)
    assert linear[free.id].revenue == pytest.approx(4000)
    assert first.totals.revenue == pytest.approx(8000)
    channels = {row.channel: row for row in first.channels}
    assert channels["webinar"].revenue == pytest.approx(8000)


def test_models_side_by_side_each_add_up_to_the_same_total(data):
    models, rows = models_side_by_side(period=MARCH, metric="leads")
    for model in models:
        assert sum(row[model] for row in rows) == pytest.approx(3)


def test_roi_for_an_empty_period_is_all_zero_without_dividing_by_zero(data):
    table = roi_table(model="markov", period=Period(date(2024, 1, 1), date(2024, 1, 1)))
    assert table.totals.revenue == 0
    assert all(row.roi in (None, -1.0) for row in table.campaigns)


def test_funnel_counts_conversion_and_median_time_in_stage(data):
    steps = {step.stage: step for step in funnel()}
    assert steps["lead"].entered == 3 and steps["lead"].advanced == 3
    # Hours in lead: 24, 48, 96 → median 48.
    assert steps["lead"].median_hours == pytest.approx(48)
    assert steps["mql"].entered == 3 and steps["mql"].advanced == 1
    # Hours in MQL for those who moved on: A 48 (to SQL), B 96 (recycled); C is still there.
    assert steps["mql"].median_hours == pytest.approx(72)
    email = {step.stage: step for step in funnel(dimension="source", value="email")}
    assert email["mql"].entered == 2 and email["mql"].advanced == 0
    cohort = {step.stage: step for step in funnel(cohort=date(2026, 3, 1))}
    assert cohort["lead"].entered == 3
    assert {step.stage: step for step in funnel(cohort=date(2026, 1, 1))}["lead"].entered == 0


def test_the_roi_funnel_and_feedback_pages_render_for_every_role(
    data, client, marketer, rep, manager, django_assert_max_num_queries
):
    for user in (marketer, rep, manager):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            roi = client.get(f"/reports/roi/?{MARCH_PARAMS}&model=w_shaped")
        assert roi.status_code == 200 and "Webinar" in roi.content.decode()
        assert "no cost recorded" in roi.content.decode()
        with django_assert_max_num_queries(8):
            assert client.get("/reports/funnel/?dimension=source").status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get(f"/reports/feedback/?{MARCH_PARAMS}").status_code == 200
        assert client.get("/reports/digests/").status_code == 200
    csv_export = client.get(f"/reports/roi/?{MARCH_PARAMS}&format=csv")
    assert b"Webinar" in b"".join(csv_export.streaming_content)
    assert client.get("/reports/roi/?model=guess").status_code == 200
    assert "model: use one of" in client.get("/reports/roi/?model=guess").content.decode()
