"""A marketer updates a battlecard and a rep who follows it sees what changed; the rep finds
who owns fintech campaigns and @mentions them on a lead; both teams watch a shared goal fill;
the joint meeting's agenda carries this month's rejection reasons."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accord.core.clock import now
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, Opportunity, StageChange
from accord.knowledge.services import ArticleInput, article_create, article_follow, article_publish
from accord.teamwork.models import GoalMetric
from accord.teamwork.services import goal_create, responsibility_add
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser]


def sign_in(page, base, user, path):
    page.goto(f"{base}{path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def test_battlecard_change_mention_goal_and_agenda(transactional_db, live_server, browser, marketer, rep, manager):
    card = article_publish(
        article=article_create(data=ArticleInput(title="Battlecard: Globex", body="Globex charges per seat.", kind="battlecard"),
                               actor=marketer),
        actor=marketer,
    )
    article_follow(article=card, user=rep)
    responsibility_add(user=marketer, area="campaign", value="Fintech campaigns", actor=marketer)
    lead = Contact.objects.create(email="cfo@bank.test", first_name="Cleo", created_at=now(), updated_at=now())
    Opportunity.objects.create(name="Bank deal", primary_contact=lead, owner=rep, amount=40000,
                               created_at=now(), updated_at=now())
    Contact.objects.filter(pk=lead.pk).update(first_touch_channel="webinar")
    goal_create(name="Marketing-sourced pipeline", metric=GoalMetric.MARKETING_SOURCED_PIPELINE, target=80000,
                period_start=date.today() - timedelta(days=10), period_end=date.today() + timedelta(days=20), actor=manager)
    rejected = Contact.objects.create(email="student@uni.test", lifecycle_stage=Stage.DISQUALIFIED, created_at=now(), updated_at=now())
    StageChange.objects.create(contact=rejected, from_stage=Stage.MQL, to_stage=Stage.DISQUALIFIED, changed_at=now(),
                               reason="student or competitor", changed_by=rep)

    marketing = browser.new_context().new_page()
    sign_in(marketing, live_server.url, marketer, f"/knowledge/{card.pk}/edit/")
    marketing.fill("#a-body", "Globex charges per seat and per API call.")
    marketing.fill("#a-note", "Globex changed its pricing")
    marketing.click("form.card button")
    marketing.wait_for_url(f"**/knowledge/{card.pk}/")

    sales = browser.new_context().new_page()
    sign_in(sales, live_server.url, rep, "/notifications/")
    assert "Updated: Battlecard: Globex" in sales.inner_text(".inbox")
    sales.click("text=Updated: Battlecard: Globex")
    sales.wait_for_url(f"**/knowledge/{card.pk}/diff/1/2/")
    assert "per API call" in sales.inner_text("table.diff ins")

    sales.goto(f"{live_server.url}/team/?q=fintech")
    assert marketer.username in sales.inner_text("#directory")
    sales.goto(f"{live_server.url}/contacts/{lead.pk}/")
    sales.fill("#comments textarea", f"@{marketer.username} was Cleo at the fintech webinar?")
    sales.click("#comments button")
    sales.wait_for_url(f"**/contacts/{lead.pk}/")
    assert "fintech webinar?" in sales.inner_text("#comments")
    marketing.goto(f"{live_server.url}/notifications/")
    assert "mentioned you" in marketing.inner_text(".inbox")

    for team_page in (marketing, sales):
        team_page.goto(f"{live_server.url}/team/goals/")
        assert "40000.00 of 80000.00 (50 %)" in team_page.inner_text(".goal")

    boss = browser.new_context().new_page()
    sign_in(boss, live_server.url, manager, "/team/meetings/")
    boss.click("text=Prepare the agenda")
    boss.wait_for_url("**/team/meetings/*/")
    agenda = boss.inner_text("#agenda")
    assert "student or competitor: 1 lead" in agenda
    assert "Battlecard: Globex" in agenda
