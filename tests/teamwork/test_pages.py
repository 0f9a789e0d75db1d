"""The common-ground pages: roles, escaping, query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accord.core.clock import now
from accord.crm.models import Contact
from accord.notifications.models import Notification
from accord.teamwork.models import Goal, GoalMetric
from accord.teamwork.services import goal_create, responsibility_add, team_request_raise

from ..conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_directory_answers_who_to_ask(client, marketer, rep, django_assert_max_num_queries):
    responsibility_add(user=marketer, area="campaign", value="Fintech campaigns", actor=marketer)
    for index in range(15):
        make_user("sales", username=f"rep{index}")
    signed_in(client, rep)
    with django_assert_max_num_queries(8):
        page = client.get("/team/?q=fintech").content.decode()
    assert marketer.username in page
    assert "rep3" not in page


def test_a_comment_form_on_a_lead_notifies_the_mentioned_marketer(client, marketer, rep):
    lead = Contact.objects.create(email="lead@x.test", created_at=now(), updated_at=now())
    signed_in(client, rep)
    response = client.post("/team/comments/", {"target_type": "contact", "target_id": lead.pk,
                                               "body": f"@{marketer.username} which campaign?", "next": f"/contacts/{lead.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/contacts/{lead.pk}/"
    assert Notification.objects.filter(recipient=marketer, kind="mention").count() == 1
    # An open redirect is not possible through "next".
    response = client.post("/team/comments/", {"target_type": "contact", "target_id": lead.pk, "body": "x",
                                               "next": "//evil.test/"})
    assert response["Location"] == "/"


def test_only_managers_set_goals_and_everyone_sees_progress(client, rep, manager, django_assert_max_num_queries):
    today = date.today()
    for index in range(5):
        goal_create(name=f"Goal {index} <b>", metric=GoalMetric.WON_REVENUE, target=1000, period_start=today,
                    period_end=today + timedelta(days=30), actor=manager)
    signed_in(client, rep)
    response = client.post("/team/goals/", {"name": "x", "metric": "won_revenue", "target": 5,
                                            "period_start": str(today), "period_end": str(today)})
    assert response.status_code == 403
    with django_assert_max_num_queries(30):
        page = client.get("/team/goals/").content.decode()
    assert "Goal 0 &lt;b&gt;" in page and 'role="progressbar"' in page
    assert Goal.objects.count() == 5


def test_a_private_request_page_is_not_found_for_outsiders(client, rep, marketer):
    private = team_request_raise(title="Leads not ready", body="", actor=rep, to_team="marketing", private=True)
    outsider = make_user("sales", username="otto")
    signed_in(client, outsider)
    assert client.get(f"/team/requests/{private.pk}/").status_code == 404
    assert "Leads not ready" not in client.get("/team/requests/").content.decode()
    client.logout()
    signed_in(client, rep)
    assert client.get(f"/team/requests/{private.pk}/").status_code == 200


def test_the_meeting_page_shows_the_generated_agenda(client, manager, rep):
    signed_in(client, manager)
    response = client.post("/team/meetings/", {"title": "December sync", "held_on": str(date.today())})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Why Sales rejected leads" in page and "Open requests between the teams" in page
    client.logout()
    signed_in(client, rep)
    assert client.get(response["Location"]).status_code == 200  # both teams read it
