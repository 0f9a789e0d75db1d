"""A person reviews a suggested duplicate in the browser: explanation, merge, timeline, undo."""

from __future__ import annotations

import pytest

from accord.crm.models import Contact
from accord.dedup.models import Suggestion
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture

pytestmark = [pytest.mark.browser]


def capture(**data) -> Contact:
    return contact_capture(lead=lead_from_mapping(data, default_region="US")).contact


def test_a_rep_merges_a_suggested_duplicate_sees_one_timeline_and_undoes_it(transactional_db, live_server, client, rep, page):
    capture(email="jon@acme.com", first_name="Jon", last_name="Smyth", company="Acme Corp.", subject="Pricing webinar")
    capture(email="jonathan@gmail.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation", kind="call", team="sales", subject="Discovery call")
    assert Suggestion.objects.filter(kind="contact").count() == 1
    client.force_login(rep)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page.goto(f"{live_server.url}/duplicates/")
    assert page.get_by_text("Company: same company").is_visible()
    page.get_by_role("link", name="Review").click()
    assert page.get_by_role("heading", name="Why they were suggested").is_visible()
    assert page.locator(".dedup-explanation tr.for").count() >= 3
    # Keep the left record, but take the longer first and last names from the right one.
    page.locator("input[name='field-first_name'][value='right']").check()
    page.locator("input[name='field-last_name'][value='right']").check()
    page.get_by_role("button", name="Merge").click()
    page.wait_for_url("**/duplicates/merges/*/")
    assert page.get_by_role("heading", name="Combined timeline").is_visible()
    timeline = page.locator(".dedup-timeline").inner_text()
    assert "Pricing webinar" in timeline and "Discovery call" in timeline
    assert Contact.objects.count() == 1
    assert Contact.objects.get().first_name == "Jonathan"
    page.get_by_role("button", name="Undo this merge").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Second record (restored)").is_visible()
    assert Contact.objects.count() == 2
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Jon", "Jonathan"]
