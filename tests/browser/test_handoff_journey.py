"""A lead crosses the MQL line, lands in the right rep's queue with a due time, the rep logs a
call and accepts it; another lead breaches and the manager sees it; the report shows both."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.core.clock import now
from accord.core.models import Role
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact
from accord.crm.services import contact_change_stage
from accord.handoff.models import Handoff
from accord.handoff.services import (
    handoffs_open_for,
    handoffs_open_pending,
    handoffs_sweep,
    routing_rule_save,
    sla_policy_save,
    work_calendar_save,
)
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser]


def sign_in(page, base, user, path):
    page.goto(f"{base}{path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def test_a_lead_is_handed_over_worked_and_measured(transactional_db, live_server, page, browser):
    calendar = work_calendar_save(values={"name": "Always", "time_zone": "UTC",
                                          "working_hours": {d: [["00:00", "24:00"]] for d in range(7)}})
    manager = make_user(Role.MANAGER, username="mona")
    sla_policy_save(values={"name": "Every MQL", "calendar": calendar, "target_hours": 24}, actor=manager)
    dieter, other = make_user(Role.SALES, username="dieter"), make_user(Role.SALES, username="olga")
    routing_rule_save(values={"name": "DACH", "kind": "territory", "countries": ["DE"], "position": 1},
                      members=[(dieter.pk, 1)])
    routing_rule_save(values={"name": "Rest", "kind": "round_robin", "position": 9}, members=[(other.pk, 1)])
    moment = now()

    # A German lead crosses the MQL line; the worker's job hands it over.
    hot = Contact.objects.create(email="hanna@firma.test", first_name="Hanna", last_name="Huber", country="DE",
                                 lifecycle_stage=Stage.LEAD, created_at=moment, updated_at=moment)
    contact_change_stage(contact=hot, to_stage=Stage.MQL, actor=manager)
    assert handoffs_open_pending() == 1

    # Another lead was handed over two days ago and nobody answered.
    late = Contact.objects.create(email="lars@late.test", first_name="Lars", last_name="Late", country="DE",
                                  lifecycle_stage=Stage.MQL, created_at=moment, updated_at=moment)
    handoffs_open_for(contacts=[late], at=moment - timedelta(days=2))
    assert handoffs_sweep().breached == 1

    sign_in(page, live_server.url, dieter, "/handoffs/")
    row = page.locator("tr", has_text="Hanna Huber")
    assert "left" in row.locator(".clock").inner_text()
    assert "DACH (country DE)" in row.inner_text()
    row.locator("[data-action=log-call]").click()
    page.locator("tr", has_text="Hanna Huber").locator("[data-action=accept]").click()
    page.wait_for_selector("text=Accepted Hanna Huber")
    assert Handoff.objects.get(contact=hot).status == "accepted"

    manager_tab = browser.new_context().new_page()
    sign_in(manager_tab, live_server.url, manager, "/handoffs/board/")
    assert "Lars Late" in manager_tab.locator("#breached").inner_text()
    manager_tab.goto(f"{live_server.url}/handoffs/report/")
    totals = manager_tab.locator("#compliance tfoot").inner_text()
    assert "\t2\t" in totals  # both leads
    dieter_row = manager_tab.locator("#compliance tbody tr", has_text="Dieter").inner_text()
    assert "50.0%" in dieter_row and "100.0%" in dieter_row  # one of two in time; the one decided was accepted
    manager_tab.context.close()
