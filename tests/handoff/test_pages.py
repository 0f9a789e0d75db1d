"""Pages: the rep's queue, the board, the report, the policy editor; roles and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.handoff.models import Handoff, SlaPolicy
from accord.handoff.services import handoffs_open_for, handoffs_sweep
from tests.handoff.conftest import make_contact


@pytest.fixture
def handoffs(policy, round_robin) -> list[Handoff]:
    return handoffs_open_for(contacts=[make_contact(email=f"p{i}@x.test") for i in range(12)])


def test_the_queue_shows_a_reps_leads_overdue_first(client, handoffs, django_assert_max_num_queries):
    owner = handoffs[0].owner
    mine = [h for h in handoffs if h.owner == owner]
    Handoff.objects.filter(pk=mine[-1].pk).update(due_at=mine[-1].opened_at - timedelta(hours=1))
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        page = client.get("/handoffs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-handoff="') == len(mine)
    # Rows by their marker: a contact's name ("P0") can also turn up inside a random CSRF token.
    assert html.index(f'data-handoff="{mine[-1].pk}"') < html.index(f'data-handoff="{mine[0].pk}"')
    assert "overdue by" in html


def test_one_click_log_call_then_accept(client, handoffs):
    handoff = handoffs[0]
    client.force_login(handoff.owner)
    client.post(f"/handoffs/{handoff.pk}/attempt/", {"kind": "call", "next": "/handoffs/"})
    response = client.post(f"/handoffs/{handoff.pk}/accept/", {"next": "/handoffs/"}, follow=True)
    handoff.refresh_from_db()
    assert handoff.status == "accepted" and handoff.attempts == 1
    assert "Accepted" in response.content.decode()


def test_a_reject_without_a_reason_shows_the_problem(client, handoffs):
    handoff = handoffs[0]
    client.force_login(handoff.owner)
    response = client.post(f"/handoffs/{handoff.pk}/reject/", {"reason": "", "next": "/handoffs/"}, follow=True)
    assert "say why the lead is rejected" in response.content.decode()
    assert Handoff.objects.get(pk=handoff.pk).is_open


def test_the_board_is_for_managers_and_shows_breaches(client, handoffs, manager, rep, django_assert_max_num_queries):
    handoffs_sweep(at=handoffs[0].opened_at + timedelta(days=2))
    client.force_login(rep)
    assert client.get("/handoffs/board/").status_code == 403
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        html = client.get("/handoffs/board/").content.decode()
    assert "Breached and still open" in html and str(handoffs[0].contact) in html


def test_both_teams_see_the_same_report(client, handoffs, marketer, manager, django_assert_max_num_queries):
    client.force_login(marketer)
    assert client.get("/handoffs/").url == "/handoffs/report/"  # marketing has no queue
    with django_assert_max_num_queries(12):
        html = client.get("/handoffs/report/?group_by=source").content.decode()
    assert "Median business hours" in html and "commitments against delivery" in html


def test_only_managers_edit_policies_and_errors_name_the_field(client, manager, rep, always_open):
    client.force_login(rep)
    assert client.get("/handoffs/policies/new/").status_code == 403
    client.force_login(manager)
    refused = client.post("/handoffs/policies/new/", {"name": "Bad", "kind": "response", "calendar": always_open.pk,
                                                     "target_hours": "0"})
    assert refused.status_code == 200 and "between 0.25 and 2000" in refused.content.decode()
    saved = client.post("/handoffs/policies/new/", {"name": "Good", "kind": "response", "calendar": always_open.pk,
                                                   "target_hours": "8", "is_active": "on", "stages": ["mql"]})
    assert saved.status_code == 302 and SlaPolicy.objects.get(name="Good").target_hours == 8


def test_a_calendar_without_working_hours_is_refused_on_the_page(client, manager):
    client.force_login(manager)
    response = client.post("/handoffs/calendars/new/", {"name": "Never", "time_zone": "UTC"})
    assert "no working hours" in response.content.decode()


def test_the_360_page_shows_the_handoff_with_its_actions(client, handoffs):
    pytest.importorskip("accord.crm.panels", reason="the 360° page's panel registry is not installed")
    handoff = handoffs[0]
    client.force_login(handoff.owner)
    html = client.get(f"/contacts/{handoff.contact_id}/").content.decode()
    assert 'id="handoff-panel"' in html and "Why this rep" in html and 'data-action="accept"' in html


def test_the_home_page_shows_my_handoffs(client, handoffs):
    pytest.importorskip("accord.crm.panels", reason="the home page's panel registry is not installed")
    client.force_login(handoffs[0].owner)
    html = client.get("/").content.decode()
    assert 'id="handoff-home"' in html and "4 open" in html
