"""A person signs in, filters the contact list, opens a 360° page and sees both teams' timeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accord.crm.services import ContactFields, contact_create
from tests.conftest import PASSWORD
from tests.web.conftest import account, campaign, contact  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser]

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_a_rep_filters_contacts_and_reads_a_timeline(transactional_db, live_server, page, rep, contact):  # noqa: F811
    contact_create(fields=ContactFields(values={"first_name": "Zed", "last_name": "Other", "email": "zed@else.test"}), actor=rep)

    page.goto(f"{live_server.url}/contacts/")
    page.fill("#id_username", rep.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/contacts/")
    assert page.locator("table.contacts tbody tr").count() == 2

    page.fill("#f-q", "lopez")
    page.select_option("#f-stage", "lead")
    page.click("#contact-filters button[type=submit]")
    page.wait_for_url("**/contacts/?q=lopez*")
    rows = page.locator("table.contacts tbody tr")
    assert rows.count() == 1
    assert "Zed" not in rows.inner_text()

    page.click("text=Ana Lopez")
    page.wait_for_url(f"{live_server.url}/contacts/{contact.pk}/")
    timeline = page.locator("#timeline")
    assert "Attended the spring webinar" in timeline.inner_text()
    assert "Discovery call" in timeline.inner_text()
    assert timeline.locator(".badge-marketing").count() >= 1 and timeline.locator(".badge-sales").count() >= 1

    page.click("#log-touchpoint summary")
    page.select_option("#log-touchpoint select[name=kind]", "note")
    page.fill("#log-touchpoint textarea[name=body]", "Asked for a pricing sheet")
    page.click("#log-touchpoint button[type=submit]")
    page.wait_for_url(f"{live_server.url}/contacts/{contact.pk}/")
    assert "Asked for a pricing sheet" in page.locator("#timeline li").first.inner_text()

    if os.environ.get("ACCORD_DOCS_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 700})
        page.screenshot(path=str(DOCS_IMG / "contact-360.png"))
