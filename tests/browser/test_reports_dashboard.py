"""Both teams open the shared KPI dashboard, see its charts, click a number and land on the
records behind it."""

from __future__ import annotations

import pytest

from accord.reports.services import snapshots_refresh
from tests.conftest import PASSWORD
from tests.reports import factories as f

pytestmark = [pytest.mark.browser]


def test_each_team_clicks_a_kpi_and_lands_on_its_records(transactional_db, live_server, page, marketer, rep, monkeypatch):
    monkeypatch.setattr("accord.reports.services.clock_now", lambda: f.at(20))
    monkeypatch.setattr("accord.reports.queries.clock_now", lambda: f.at(20))
    ads = f.campaign("Spring ads", channel="paid_search", cost=900)
    for _ in range(3):
        person = f.contact(stages=(("lead", 0), ("mql", 2)))
        f.touch(person, 1, campaign=ads)
    snapshots_refresh()
    dashboard = f"{live_server.url}/reports/?period=custom&from=2026-03&to=2026-03"
    for user in (marketer, rep):
        page.context.clear_cookies()
        page.goto(dashboard)
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/reports/**")
        assert page.locator("article.kpi").count() == 6
        assert page.locator("article.kpi svg.sparkline").count() == 6
        assert page.locator("#kpi-mqls a.value").inner_text() == "3"
        page.click("#kpi-mqls a.value")
        page.wait_for_url("**/reports/kpi/mqls/**")
        assert page.locator("tbody tr").count() == 3
