"""Demo data for the common ground: responsibilities, a request each way, shared goals, a meeting."""

from __future__ import annotations

from datetime import datetime, timedelta

from accord.core.models import Team, User
from accord.teamwork.models import GoalMetric
from accord.teamwork.services import goal_create, meeting_create, responsibility_add, team_request_raise


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    marketer = User.objects.filter(team=Team.MARKETING).order_by("id").first()
    reps = list(User.objects.filter(team=Team.SALES, role="sales").order_by("id"))
    manager = User.objects.filter(role="manager").order_by("id").first()
    if not (marketer and reps and manager):
        return
    responsibility_add(user=marketer, area="campaign", value="Fintech campaigns", actor=marketer)
    responsibility_add(user=marketer, area="campaign", value="Webinars", actor=marketer)
    for rep, territory in zip(reps, ("DACH", "Nordics", "UK & Ireland")):
        responsibility_add(user=rep, area="territory", value=territory, actor=rep)
    responsibility_add(user=reps[0], area="industry", value="Fintech", actor=reps[0])
    team_request_raise(title="Need a case study for fintech", body=f"For next week's calls. @{marketer.username}",
                       actor=reps[0], to_team=Team.MARKETING)
    team_request_raise(title="Webinar leads from November are not ready", body="Most are students; can we filter them?",
                       actor=reps[-1], to_team=Team.MARKETING)
    today = now.date()
    quarter_start = today.replace(day=1) - timedelta(days=60)
    goal_create(name="Marketing-sourced pipeline this quarter", metric=GoalMetric.MARKETING_SOURCED_PIPELINE,
                target=750000, period_start=quarter_start, period_end=quarter_start + timedelta(days=120), actor=manager,
                reward="Team offsite")
    goal_create(name="MQL acceptance rate", metric=GoalMetric.MQL_ACCEPTANCE_RATE, target=70,
                period_start=quarter_start, period_end=quarter_start + timedelta(days=120), actor=manager)
    goal_create(name="Fintech revenue", metric=GoalMetric.WON_REVENUE, target=250000, industry="Fintech",
                period_start=today.replace(month=1, day=1), period_end=today.replace(month=12, day=31), actor=manager,
                reward="Bonus pool")
    meeting_create(title="Monthly Sales & Marketing sync", held_on=today, actor=manager)
    stdout.write("teamwork: responsibilities, 2 requests, 3 goals, 1 meeting")
