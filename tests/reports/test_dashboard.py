"""The shared KPI dashboard: numbers, targets, drill-down to records, CSV, roles, queries."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from accord.reports.models import Kpi, KpiTarget
from accord.reports.providers import KpiCount, register_kpi_provider, unregister_kpi_provider
from accord.reports.queries import Period, dashboard_kpis, kpi_records
from accord.reports.services import kpi_target_set, snapshots_refresh
from tests.conftest import PASSWORD

from . import factories as f

pytestmark = pytest.mark.django_db
MARCH = Period(date(2026, 3, 1), date(2026, 3, 1))
MARCH_PARAMS = "period=custom&from=2026-03&to=2026-03"


@pytest.fixture
def march(monkeypatch):
    monkeypatch.setattr("accord.reports.services.clock_now", lambda: f.at(25))
    monkeypatch.setattr("accord.reports.queries.clock_now", lambda: f.at(25))
    ads = f.campaign("Spring ads", channel="paid_search", cost=3000, start=date(2026, 3, 1), end=date(2026, 3, 30))
    small = f.account("Tiny Co", employees=10, industry="retail")
    big = f.account("Big Co", employees=5000, industry="software")
    # Four MQLs in March; two reach SQL. One older MQL (February) does not count again.
    people = [
        f.contact(account=big, stages=(("lead", 0), ("mql", 2), ("sal", 3), ("sql", 4))),
        f.contact(account=big, stages=(("lead", 0), ("mql", 2), ("sql", 5))),
        f.contact(account=small, stages=(("lead", 0), ("mql", 3))),
        f.contact(account=small, stages=(("lead", 0), ("mql", 3), ("recycled", 6))),
        f.contact(account=small, stages=(("lead", -30), ("mql", -20))),
    ]
    for person in people:
        f.touch(person, -1, campaign=ads)
    sales_only = f.contact(account=None, stages=(("lead", 0),))
    f.touch(sales_only, 0, channel="sales", kind="call", team="sales")
    f.opportunity(contact=people[0], account=big, amount=10000, stage="won", created=6, closed=9)
    f.opportunity(contact=people[1], account=big, amount=5000, stage="lost", created=6, closed=10)
    f.opportunity(contact=sales_only, amount=2000, created=7)  # sales-sourced
    f.opportunity(contact=people[2], account=small, amount=800, created=8, currency="EUR")
    snapshots_refresh()


def _cards(**kwargs):
    cards = {card.kpi: card for card in dashboard_kpis(period=MARCH, **kwargs)}
    cards[Kpi.SOURCED_REVENUE] = cards[Kpi.SOURCED_PIPELINE].secondary
    return cards


def test_the_dashboard_numbers_come_from_the_records(march):
    cards = _cards()
    assert len(dashboard_kpis(period=MARCH)) == 6
    assert cards[Kpi.MQLS].value == 4
    assert cards[Kpi.ACCEPTANCE_RATE].value == pytest.approx(0.5)
    assert cards[Kpi.WIN_RATE].value == pytest.approx(0.5)
    # Marketing-sourced: the two big-account deals (first touch: the ad campaign) and the EUR one.
    assert cards[Kpi.SOURCED_PIPELINE].value == pytest.approx(15000)
    assert "1 opportunities in other currencies" in cards[Kpi.SOURCED_PIPELINE].note
    assert cards[Kpi.SOURCED_REVENUE].value == pytest.approx(10000)
    # March carries the campaign's whole cost (it ran 1–30 March): 3000 / 3 sourced deals.
    assert cards[Kpi.COST_PER_OPPORTUNITY].value == pytest.approx(1000)
    assert cards[Kpi.SLA_COMPLIANCE].display == "no SLA data"


def test_segment_filter_narrows_every_number(march):
    cards = _cards(segment="enterprise")
    assert cards[Kpi.MQLS].value == 2
    assert cards[Kpi.ACCEPTANCE_RATE].value == pytest.approx(1.0)
    assert cards[Kpi.COST_PER_OPPORTUNITY].value is None
    assert "not split by segment" in cards[Kpi.COST_PER_OPPORTUNITY].note


def test_targets_are_compared_and_lower_cost_is_better(march, manager):
    kpi_target_set(kpi=Kpi.MQLS, value=3, actor=manager)
    kpi_target_set(kpi=Kpi.COST_PER_OPPORTUNITY, value=900, actor=manager)
    kpi_target_set(kpi=Kpi.WIN_RATE, value="0.4", month=date(2026, 3, 1), actor=manager)
    cards = _cards()
    assert cards[Kpi.MQLS].target == 3 and cards[Kpi.MQLS].on_track is True
    assert cards[Kpi.COST_PER_OPPORTUNITY].on_track is False
    assert cards[Kpi.WIN_RATE].target == pytest.approx(0.4)
    three_months = Period(date(2026, 1, 1), date(2026, 3, 1))
    mqls = {c.kpi: c for c in dashboard_kpis(period=three_months)}[Kpi.MQLS]
    assert mqls.target == 9  # a monthly default summed over three months


def test_every_drilldown_lists_exactly_the_records_counted(march):
    cards = _cards()
    assert kpi_records(kpi=Kpi.MQLS, period=MARCH).rows.count() == cards[Kpi.MQLS].value
    accepted = [row["reached_sql"] for row in kpi_records(kpi=Kpi.ACCEPTANCE_RATE, period=MARCH).rows]
    assert sum(accepted) / len(accepted) == cards[Kpi.ACCEPTANCE_RATE].value
    pipeline = kpi_records(kpi=Kpi.SOURCED_PIPELINE, period=MARCH).rows
    assert sum(float(r["amount"]) for r in pipeline if r["currency"] == "USD") == cards[Kpi.SOURCED_PIPELINE].value
    won = kpi_records(kpi=Kpi.SOURCED_REVENUE, period=MARCH).rows
    assert [float(r["amount"]) for r in won] == [10000.0]
    closed = kpi_records(kpi=Kpi.WIN_RATE, period=MARCH).rows
    assert sorted(r["stage"] for r in closed) == ["lost", "won"]
    assert kpi_records(kpi=Kpi.MQLS, period=MARCH, segment="smb").rows.count() == 2


def test_sla_compliance_comes_from_a_registered_provider(march):
    seen = {}

    def provider(*, start, end, contacts):
        seen["called"] = True
        return KpiCount(met=9, total=10, url="/handoffs/?breached=1")

    register_kpi_provider(Kpi.SLA_COMPLIANCE, provider)
    try:
        snapshots_refresh()
        card = _cards()[Kpi.SLA_COMPLIANCE]
        assert card.value == pytest.approx(0.9)
        assert kpi_records(kpi=Kpi.SLA_COMPLIANCE, period=MARCH).external_url == "/handoffs/?breached=1"
    finally:
        unregister_kpi_provider(Kpi.SLA_COMPLIANCE)
    assert seen


def test_an_empty_period_shows_dashes_not_errors(march):
    cards = {c.kpi: c for c in dashboard_kpis(period=Period(date(2025, 1, 1), date(2025, 1, 1)))}
    assert cards[Kpi.MQLS].value == 0
    assert cards[Kpi.ACCEPTANCE_RATE].value is None and cards[Kpi.ACCEPTANCE_RATE].display == "—"
    assert cards[Kpi.WIN_RATE].note == "no deals closed in this period"
    assert cards[Kpi.COST_PER_OPPORTUNITY].value is None


def test_both_teams_see_the_same_dashboard_within_a_few_queries(march, client, marketer, rep, django_assert_max_num_queries):
    pages = []
    for user in (marketer, rep):
        client.force_login(user)
        with django_assert_max_num_queries(8):
            response = client.get(f"/reports/?{MARCH_PARAMS}")
        assert response.status_code == 200
        pages.append(response.content.decode())
    for page in pages:
        assert 'id="kpi-mqls"' in page and "<svg" in page and "no SLA data" in page
    assert "/reports/kpi/mqls/" in pages[0]


def test_the_drilldown_page_and_its_csv(march, client, rep, django_assert_max_num_queries):
    client.force_login(rep)
    with django_assert_max_num_queries(8):
        response = client.get(f"/reports/kpi/mqls/?{MARCH_PARAMS}")
    assert response.status_code == 200
    assert response.content.decode().count("@example.test") == 4
    export = client.get(f"/reports/kpi/mqls/?{MARCH_PARAMS}&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][1] == "Email" and len(rows) == 5


def test_the_dashboard_csv_export(march, client, marketer):
    client.force_login(marketer)
    response = client.get(f"/reports/kpis.csv?{MARCH_PARAMS}")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_kpi = {row["kpi"]: row for row in rows}
    assert float(by_kpi["mqls"]["value"]) == 4
    assert set(by_kpi) == set(Kpi.values)


def test_bad_filters_are_named_not_crashed(march, client, rep):
    client.force_login(rep)
    response = client.get("/reports/?period=custom&from=2026-13&to=x&segment=giant")
    assert response.status_code == 200
    body = response.content.decode()
    assert "from: give a month as YYYY-MM" in body and "segment: use one of" in body
    assert client.get("/reports/kpi/nonsense/").status_code == 404


def test_only_managers_set_targets(march, client, marketer, manager):
    client.force_login(marketer)
    assert client.post("/reports/targets/", {"kpi": "mqls", "value": "50"}).status_code == 403
    client.force_login(manager)
    response = client.post("/reports/targets/", {"kpi": "win_rate", "value": "35"})
    assert response.status_code == 422 and "a rate is a fraction" in response.content.decode()
    assert client.post("/reports/targets/", {"kpi": "mqls", "value": "50", "month": "2026-03"}).status_code == 302
    assert KpiTarget.objects.get(kpi="mqls").value == 50


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302


def test_the_api_serves_the_same_numbers_and_names_bad_fields(march, client, rep, manager):
    client.force_login(rep)
    data = client.get(f"/api/reports/kpis?{MARCH_PARAMS}").json()
    assert {k["kpi"]: k["value"] for k in data["kpis"]}["mqls"] == 4
    records = client.get(f"/api/reports/kpis/mqls/records?{MARCH_PARAMS}").json()
    assert records["count"] == 4
    bad = client.get("/api/reports/kpis?period=fortnight")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "period"
    assert client.put("/api/reports/targets", {"kpi": "mqls", "value": "5"}, content_type="application/json").status_code == 403
    client.force_login(manager)
    ok = client.put("/api/reports/targets", {"kpi": "mqls", "value": "5"}, content_type="application/json")
    assert ok.status_code == 200
    roi = client.get(f"/api/reports/roi?{MARCH_PARAMS}&model=markov").json()
    assert roi["records_lacking_data"]["opportunities_other_currency"] == 1


def test_login_works_for_real_users(client, rep):
    assert client.login(username=rep.username, password=PASSWORD)
