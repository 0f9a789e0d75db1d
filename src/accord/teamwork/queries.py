"""Reads for the common ground: the directory search, requests one may read, goal progress."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accord.core.models import User
from accord.crm.lifecycle import Stage
from accord.crm.models import Opportunity, OpportunityStage, StageChange
from accord.teamwork.models import (
    ActionItem,
    Comment,
    Goal,
    GoalMetric,
    RequestParticipant,
    Responsibility,
    TeamRequest,
)

# First touches from these channels are Sales' own work, not marketing-sourced.
NOT_MARKETING_CHANNELS = ("sales", "direct", "")


def directory(*, query: str = "") -> QuerySet[User]:
    """Everyone active, or "who do I ask about X": matches responsibilities, names, titles, teams."""
    people = User.objects.filter(is_active=True).prefetch_related(
        Prefetch("responsibilities", queryset=Responsibility.objects.order_by("area", "value"))
    ).select_related("directory_profile")
    words = query.split()[:5]
    for word in words:
        people = people.filter(
            Q(responsibilities__value__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(title__icontains=word)
            | Q(team__iexact=word)
        )
    return people.distinct().order_by("team", "first_name", "username")


def requests_visible_to(user) -> QuerySet[TeamRequest]:
    if user.role in ("manager", "admin"):
        return TeamRequest.objects.all()
    part_of = RequestParticipant.objects.filter(request=OuterRef("pk"), user=user)
    return TeamRequest.objects.filter(Q(private=False) | Exists(part_of))


def request_for(user, request_id: int) -> TeamRequest:
    request = requests_visible_to(user).select_related("raised_by", "assignee").filter(pk=request_id).first()
    if request is None:
        raise Http404("No such request, or it is private to the people in it.")
    return request


def comments_on(target_type: str, target_id: int) -> list[Comment]:
    return list(
        Comment.objects.filter(target_type=target_type, target_id=target_id)
        .select_related("author")
        .prefetch_related("mentions__user")
    )


def open_action_items(user) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(owner=user, done_at__isnull=True).select_related("meeting")


@dataclass
class GoalProgress:
    goal: Goal
    value: Decimal | None
    share: float | None
    contributors: list[tuple[str, str, Decimal]] = field(default_factory=list)
    note: str = ""

    @property
    def percent(self) -> int:
        return max(0, min(100, round((self.share or 0) * 100)))

    @property
    def reached(self) -> bool:
        return self.share is not None and self.share >= 1


def _bounds(goal: Goal) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(goal.period_start, time.min, tzinfo=tz),
        datetime.combine(goal.period_end + timedelta(days=1), time.min, tzinfo=tz),
    )


def goal_progress(goal: Goal) -> GoalProgress:
    """The goal's value from the records now, and who contributed."""
    start, end = _bounds(goal)
    metric = goal.metric
    if metric in (GoalMetric.MARKETING_SOURCED_PIPELINE, GoalMetric.WON_REVENUE):
        opportunities = Opportunity.objects.all()
        if metric == GoalMetric.WON_REVENUE:
            opportunities = opportunities.filter(stage=OpportunityStage.WON, closed_at__gte=start, closed_at__lt=end)
        else:
            opportunities = opportunities.filter(created_at__gte=start, created_at__lt=end).exclude(
                primary_contact__first_touch_channel__in=NOT_MARKETING_CHANNELS
            ).exclude(primary_contact__isnull=True)
        if goal.industry:
            opportunities = opportunities.filter(account__industry__iexact=goal.industry)
        value = opportunities.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        by_owner = opportunities.values("owner__username", "owner__team").annotate(total=Sum("amount")).order_by("-total")[:8]
        contributors = [(row["owner__username"] or "unassigned", row["owner__team"] or "", row["total"]) for row in by_owner]
        if metric == GoalMetric.MARKETING_SOURCED_PIPELINE:
            by_campaign_owner = (
                opportunities.exclude(primary_contact__first_touch_campaign__owner__isnull=True)
                .values("primary_contact__first_touch_campaign__owner__username")
                .annotate(total=Sum("amount"))
                .order_by("-total")[:5]
            )
            contributors += [
                (row["primary_contact__first_touch_campaign__owner__username"], "marketing", row["total"])
                for row in by_campaign_owner
            ]
        return _progress(goal, value, contributors)
    if metric in (GoalMetric.MQL_COUNT, GoalMetric.MQL_ACCEPTANCE_RATE):
        moves = StageChange.objects.filter(to_stage=Stage.MQL, changed_at__gte=start, changed_at__lt=end)
        if goal.industry:
            moves = moves.filter(contact__account__industry__iexact=goal.industry)
        mql_contacts = moves.values("contact_id").distinct()
        count = mql_contacts.count()
        if metric == GoalMetric.MQL_COUNT:
            by_campaign_owner = (
                moves.exclude(contact__first_touch_campaign__owner__isnull=True)
                .values("contact__first_touch_campaign__owner__username")
                .annotate(total=Count("id"))
            )
            contributors = [(row["contact__first_touch_campaign__owner__username"], "marketing", Decimal(row["total"]))
                            for row in by_campaign_owner[:8]]
            return _progress(goal, Decimal(count), contributors)
        accepted = StageChange.objects.filter(
            contact_id__in=mql_contacts, to_stage=Stage.SAL, changed_at__gte=start
        )
        accepted_count = accepted.values("contact_id").distinct().count()
        by_rep = accepted.values("changed_by__username").annotate(total=Count("id")).order_by("-total")[:8]
        contributors = [(row["changed_by__username"] or "—", "sales", Decimal(row["total"])) for row in by_rep]
        if not count:
            return GoalProgress(goal, None, None, contributors, note="No MQLs in the period yet.")
        return _progress(goal, Decimal(accepted_count * 100) / Decimal(count), contributors)
    if metric == GoalMetric.SLA_COMPLIANCE:
        from accord.reports.providers import kpi_provider

        provider = kpi_provider("sla_compliance")
        counts = provider(start=start, end=end, contacts=None) if provider else None
        if not counts or not counts.total:
            return GoalProgress(goal, None, None, note="No handoffs were due in the period yet.")
        return _progress(goal, Decimal(counts.met * 100) / Decimal(counts.total), [])
    raise ValueError(f"unknown goal metric {metric}")


def _progress(goal: Goal, value: Decimal, contributors) -> GoalProgress:
    merged: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for name, team, amount in contributors:
        merged[(name, team)] += Decimal(amount or 0)
    ordered = sorted(((name, team, amount) for (name, team), amount in merged.items()), key=lambda row: -row[2])
    share = float(value / goal.target) if goal.target else None
    return GoalProgress(goal, value.quantize(Decimal("0.01")), share, ordered)


def goals_current(*, today: date | None = None) -> list[GoalProgress]:
    today = today or timezone.localdate()
    goals = Goal.objects.filter(period_end__gte=today - timedelta(days=90)).order_by("period_end", "name")[:30]
    return [goal_progress(goal) for goal in goals]


def contact_comments_panel(contact, user) -> dict:
    return {"comments": comments_on("contact", contact.pk), "target_type": "contact", "target_id": contact.pk}


def account_comments_panel(account, user) -> dict:
    return {"comments": comments_on("account", account.pk), "target_type": "account", "target_id": account.pk}


def home_action_items_panel(user) -> dict | None:
    items = list(open_action_items(user)[:10])
    return {"items": items} if items else None
