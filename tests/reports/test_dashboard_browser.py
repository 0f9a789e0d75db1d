"""Both teams open the dashboard in a real browser, see the charts, click a number and land
on the records behind it."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from accord.reports.services import snapshots_refresh

from . import factories as f

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing; browser tests need Chromium")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _signed_in_page(browser, client, user, live_server):
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )
    return context.new_page()


def test_each_team_clicks_a_kpi_and_lands_on_its_records(browser, live_server, client, marketer, rep, monkeypatch):
    monkeypatch.setattr("accord.reports.services.clock_now", lambda: f.at(20))
    monkeypatch.setattr("accord.reports.queries.clock_now", lambda: f.at(20))
    ads = f.campaign("Spring ads", channel="paid_search", cost=900)
    for _ in range(3):
        person = f.contact(stages=(("lead", 0), ("mql", 2)))
        f.touch(person, 1, campaign=ads)
    snapshots_refresh()
    for user in (marketer, rep):
        page = _signed_in_page(browser, client, user, live_server)
        page.goto(f"{live_server.url}/reports/?period=custom&from=2026-03&to=2026-03")
        assert page.locator("article.kpi").count() == 6
        assert page.locator("article.kpi svg.sparkline").count() == 6
        page.click("#kpi-mqls a.value")
        page.wait_for_url("**/reports/kpi/mqls/**")
        assert page.locator("tbody tr").count() == 3
        page.context.close()
