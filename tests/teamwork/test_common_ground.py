"""Directory, @mentions, requests, shared goals from the records, and the joint meeting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.http import Http404

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.crm.models import Account, Contact, Opportunity, StageChange
from accord.knowledge.services import ArticleInput, article_create, article_publish, article_update
from accord.notifications.models import Notification
from accord.teamwork.models import GoalMetric
from accord.teamwork.queries import directory, goal_progress, request_for, requests_visible_to
from accord.teamwork.services import (
    action_item_add,
    comment_post,
    goal_create,
    meeting_create,
    responsibility_add,
    team_request_close,
    team_request_raise,
)

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def contact(email, **extra):
    moment = now()
    return Contact.objects.create(email=email, created_at=moment, updated_at=moment, **extra)


def test_who_do_i_ask_about_fintech_campaigns_finds_the_responsible_marketer(marketer, rep):
    responsibility_add(user=marketer, area="campaign", value="Fintech campaigns", actor=marketer)
    responsibility_add(user=rep, area="territory", value="DACH", actor=rep)

    assert list(directory(query="fintech")) == [marketer]
    assert list(directory(query="dach")) == [rep]
    with pytest.raises(ValidationFailed):
        responsibility_add(user=marketer, area="campaign", value="x", actor=rep)


def test_mentioning_someone_on_a_lead_notifies_them_with_a_link(marketer, rep):
    lead = contact("lead@acme.test")
    comment = comment_post(target_type="contact", target_id=lead.pk, body=f"@{marketer.username.upper()} is this from the fintech webinar?", author=rep)

    assert [m.user for m in comment.mentions.all()] == [marketer]
    [note] = Notification.objects.filter(recipient=marketer, kind="mention")
    assert note.url == f"/contacts/{lead.pk}/"
    assert "fintech webinar" in note.body


def test_mentions_of_unknown_people_and_unknown_records_are_refused(rep):
    lead = contact("lead@acme.test")
    with pytest.raises(ValidationFailed) as refused:
        comment_post(target_type="contact", target_id=lead.pk, body="@nobody123 look", author=rep)
    assert "@nobody123" in refused.value.errors["body"]
    with pytest.raises(ValidationFailed) as refused:
        comment_post(target_type="contact", target_id=999999, body="hello", author=rep)
    assert "target_id" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        comment_post(target_type="spaceship", target_id=1, body="hello", author=rep)
    assert "target_type" in refused.value.errors


def test_a_private_request_is_read_only_by_the_people_in_it(marketer, rep, manager):
    outsider = make_user("sales", username="otto")
    private = team_request_raise(title="These webinar leads are not ready", body=f"@{marketer.username} see list",
                                 actor=rep, to_team="marketing", private=True)
    public = team_request_raise(title="Need a fintech case study", body="", actor=rep, to_team="marketing")

    assert request_for(marketer, private.pk) == private  # mentioned
    assert request_for(manager, private.pk) == private
    with pytest.raises(Http404):
        request_for(outsider, private.pk)
    assert set(requests_visible_to(outsider)) == {public}
    with pytest.raises(ValidationFailed):
        team_request_close(request=public, resolution=" ", actor=marketer)
    closed = team_request_close(request=public, resolution="Published the Acme Bank story", actor=marketer)
    assert closed.status == "closed"
    assert Notification.objects.filter(recipient=rep, title__startswith="Closed").exists()


def test_goal_progress_is_computed_from_opportunities_and_shows_contributors(manager, marketer, rep):
    from accord.campaigns.models import Campaign

    webinar = Campaign.objects.create(name="Fintech webinar", owner=marketer, created_at=now(), updated_at=now())
    bank = Account.objects.create(name="Acme Bank", industry="Fintech", created_at=now(), updated_at=now())
    shop = Account.objects.create(name="Shop", industry="Retail", created_at=now(), updated_at=now())
    from_marketing = contact("a@bank.test", account=bank, first_touch_channel="webinar", first_touch_campaign=webinar)
    from_sales = contact("b@shop.test", account=shop, first_touch_channel="sales")
    for person, account, amount in ((from_marketing, bank, 30000), (from_sales, shop, 50000)):
        Opportunity.objects.create(name="Deal", account=account, primary_contact=person, owner=rep, amount=amount,
                                   created_at=now(), updated_at=now())
    today = date.today()
    goal = goal_create(name="Q pipeline", metric=GoalMetric.MARKETING_SOURCED_PIPELINE, target=60000,
                       period_start=today - timedelta(days=30), period_end=today + timedelta(days=30), actor=manager,
                       reward="Team dinner")

    progress = goal_progress(goal)

    assert progress.value == Decimal("30000.00")
    assert progress.percent == 50
    assert (rep.username, "sales", Decimal(30000)) in progress.contributors
    assert (marketer.username, "marketing", Decimal(30000)) in progress.contributors


def test_acceptance_rate_goal_counts_mqls_accepted_by_sales(manager, rep):
    today = date.today()
    for index in range(4):
        person = contact(f"m{index}@x.test")
        StageChange.objects.create(contact=person, from_stage=Stage.LEAD, to_stage=Stage.MQL, changed_at=now())
        if index < 3:
            StageChange.objects.create(contact=person, from_stage=Stage.MQL, to_stage=Stage.SAL, changed_at=now(), changed_by=rep)
    goal = goal_create(name="Acceptance", metric=GoalMetric.MQL_ACCEPTANCE_RATE, target=80,
                       period_start=today - timedelta(days=1), period_end=today + timedelta(days=1), actor=manager)

    progress = goal_progress(goal)

    assert progress.value == Decimal("75.00")
    assert not progress.reached
    assert progress.contributors == [(rep.username, "sales", Decimal(3))]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_end": date(2026, 1, 1), "period_start": date(2026, 2, 1)}, "period_end"),
        ({"period_end": date(2029, 1, 1)}, "period_end"),
        ({"metric": GoalMetric.SLA_COMPLIANCE, "target": 140}, "target"),
        ({"target": -5}, "target"),
        ({"metric": "happiness"}, "metric"),
    ],
)
def test_goals_with_impossible_periods_or_targets_are_refused(manager, changes, field):
    values = {"name": "Goal", "metric": GoalMetric.WON_REVENUE, "target": 100,
              "period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31), "actor": manager}
    values.update(changes)
    with pytest.raises(ValidationFailed) as refused:
        goal_create(**values)
    assert field in refused.value.errors


def test_the_meeting_agenda_brings_rejection_reasons_requests_and_knowledge_changes(manager, marketer, rep):
    person = contact("lead@x.test", lifecycle_stage=Stage.DISQUALIFIED)
    StageChange.objects.create(contact=person, from_stage=Stage.LEAD, to_stage=Stage.MQL, changed_at=now() - timedelta(days=2))
    StageChange.objects.create(contact=person, from_stage=Stage.MQL, to_stage=Stage.DISQUALIFIED, changed_at=now(),
                               reason="no budget", changed_by=rep)
    team_request_raise(title="Need a fintech case study", body="", actor=rep, to_team="marketing")
    article = article_publish(article=article_create(data=ArticleInput(title="Battlecard", body="v1"), actor=marketer), actor=marketer)
    article_update(article=article, data=ArticleInput(title="Battlecard", body="v2", change_note="new pricing"), actor=marketer)

    meeting = meeting_create(title="December sync", held_on=date.today() + timedelta(days=1), actor=manager)

    sections = {section["title"]: [item["text"] for item in section["items"]] for section in meeting.agenda}
    assert sections["Why Sales rejected leads"] == ["no budget: 1 lead"]
    assert any("Need a fintech case study" in text for text in sections["Open requests between the teams"])
    assert any("Battlecard" in text and "new pricing" in text for text in sections["Knowledge changes since last time"])
    assert "SLA breaches" in sections


def test_action_items_reach_their_owners_notifications(manager, rep):
    meeting = meeting_create(title="Sync", held_on=date.today(), actor=manager)
    action_item_add(meeting=meeting, text="Call back the webinar leads", owner=rep, due_on=date.today() + timedelta(days=7), actor=manager)
    [note] = Notification.objects.filter(recipient=rep, kind="action_item")
    assert "Call back the webinar leads" in note.title
    with pytest.raises(ValidationFailed) as refused:
        action_item_add(meeting=meeting, text="Late", owner=rep, due_on=date.today() - timedelta(days=3), actor=manager)
    assert "due_on" in refused.value.errors
