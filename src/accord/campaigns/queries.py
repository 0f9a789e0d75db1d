"""Reads on campaigns and touchpoints: the list filters the pages and the API share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404

from accord.campaigns.models import Campaign, CampaignStatus, Channel, Touchpoint, TouchpointKind
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.core.params import ParamReader, within_days
from accord.crm.lifecycle import Stage
from accord.crm.models import OPEN_OPPORTUNITY_STAGES, Contact, Opportunity, OpportunityStage


@dataclass(frozen=True)
class CampaignFilter:
    q: str = ""
    channels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    owner_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    active_on: date | None = None


def campaign_filter_from_params(params: Mapping[str, object]) -> CampaignFilter:
    read = ParamReader(params)
    created_from, created_to = read.day_range("created_from", "created_to")
    result = CampaignFilter(
        q=read.text("q"),
        channels=read.choices("channel", Channel.values, "a channel"),
        statuses=read.choices("status", CampaignStatus.values, "a campaign status"),
        owner_id=read.whole("owner"),
        created_from=created_from,
        created_to=created_to,
        active_on=read.day("active_on"),
    )
    if read.errors:
        raise ValidationFailed(read.errors)
    return result


def campaigns_matching(campaign_filter: CampaignFilter) -> QuerySet[Campaign]:
    f = campaign_filter
    campaigns = Campaign.objects.select_related("owner")
    for word in f.q.split()[:5]:
        campaigns = campaigns.filter(Q(name__icontains=word) | Q(utm_campaign__icontains=word))
    if f.channels:
        campaigns = campaigns.filter(channel__in=f.channels)
    if f.statuses:
        campaigns = campaigns.filter(status__in=f.statuses)
    if f.owner_id:
        campaigns = campaigns.filter(owner_id=f.owner_id)
    if f.active_on:
        campaigns = campaigns.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=f.active_on),
            Q(end_date__isnull=True) | Q(end_date__gte=f.active_on),
        )
    campaigns = within_days(campaigns, "created_at", f.created_from, f.created_to)
    return campaigns.order_by("-created_at", "-id")


@dataclass(frozen=True)
class TouchpointFilter:
    q: str = ""
    contact_id: int | None = None
    account_id: int | None = None
    campaign_id: int | None = None
    actor_id: int | None = None
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    occurred_from: date | None = None
    occurred_to: date | None = None


def touchpoint_filter_from_params(params: Mapping[str, object]) -> TouchpointFilter:
    read = ParamReader(params)
    occurred_from, occurred_to = read.day_range("occurred_from", "occurred_to")
    result = TouchpointFilter(
        q=read.text("q"),
        contact_id=read.whole("contact"),
        account_id=read.whole("account"),
        campaign_id=read.whole("campaign"),
        actor_id=read.whole("actor"),
        kinds=read.choices("kind", TouchpointKind.values, "a touchpoint kind"),
        channels=read.choices("channel", Channel.values, "a channel"),
        teams=read.choices("team", Team.values, "a team"),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    if read.errors:
        raise ValidationFailed(read.errors)
    return result


def touchpoints_matching(touchpoint_filter: TouchpointFilter) -> QuerySet[Touchpoint]:
    f = touchpoint_filter
    touchpoints = Touchpoint.objects.select_related("campaign", "actor")
    for word in f.q.split()[:5]:
        touchpoints = touchpoints.filter(Q(subject__icontains=word) | Q(body__icontains=word))
    if f.contact_id:
        touchpoints = touchpoints.filter(contact_id=f.contact_id)
    if f.account_id:
        touchpoints = touchpoints.filter(contact__account_id=f.account_id)
    if f.campaign_id:
        touchpoints = touchpoints.filter(campaign_id=f.campaign_id)
    if f.actor_id:
        touchpoints = touchpoints.filter(actor_id=f.actor_id)
    if f.kinds:
        touchpoints = touchpoints.filter(kind__in=f.kinds)
    if f.channels:
        touchpoints = touchpoints.filter(channel__in=f.channels)
    if f.teams:
        touchpoints = touchpoints.filter(team__in=f.teams)
    touchpoints = within_days(touchpoints, "occurred_at", f.occurred_from, f.occurred_to)
    return touchpoints.order_by("-occurred_at", "-id")


# --- What each campaign brought in (the campaign pages) ------------------------------------
# A campaign "brought" a lead when it was the lead's first touch (Contact.first_touch_campaign).
# Pipeline is the amount of open opportunities whose primary contact it brought; won revenue
# is the amount of won ones. Multi-touch attribution is the reports capability's job.

ZERO = Decimal("0")


@dataclass
class CampaignResults:
    leads: int
    pipeline: Decimal
    won: Decimal
    won_deals: int

    def cost_per_lead(self, campaign: Campaign) -> Decimal | None:
        if campaign.actual_cost is None or not self.leads:
            return None
        return (campaign.actual_cost / self.leads).quantize(Decimal("0.01"))

    def return_on_cost(self, campaign: Campaign) -> Decimal | None:
        if not campaign.actual_cost:
            return None
        return (self.won / campaign.actual_cost).quantize(Decimal("0.01"))


def _deal_sums(deals: QuerySet[Opportunity]):
    return dict(
        pipeline=Sum("amount", filter=Q(stage__in=OPEN_OPPORTUNITY_STAGES), default=ZERO),
        won=Sum("amount", filter=Q(stage=OpportunityStage.WON), default=ZERO),
        won_deals=Count("id", filter=Q(stage=OpportunityStage.WON)),
    )


def campaign_results_for(campaign_ids: list[int]) -> dict[int, CampaignResults]:
    """Results of several campaigns at once: two grouped queries whatever their number."""
    leads = dict(
        Contact.objects.filter(first_touch_campaign_id__in=campaign_ids)
        .order_by()
        .values_list("first_touch_campaign_id")
        .annotate(n=Count("id"))
    )
    deals = Opportunity.objects.filter(primary_contact__first_touch_campaign_id__in=campaign_ids).order_by()
    sums = {
        row["primary_contact__first_touch_campaign_id"]: row
        for row in deals.values("primary_contact__first_touch_campaign_id").annotate(**_deal_sums(deals))
    }
    return {
        cid: CampaignResults(
            leads=leads.get(cid, 0),
            pipeline=sums.get(cid, {}).get("pipeline") or ZERO,
            won=sums.get(cid, {}).get("won") or ZERO,
            won_deals=sums.get(cid, {}).get("won_deals") or 0,
        )
        for cid in campaign_ids
    }


def campaign_for_page(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("owner"), pk=campaign_id)


def campaign_leads(campaign: Campaign) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(first_touch_campaign=campaign)
        .select_related("account", "owner")
        .order_by("-first_touch_at", "-id")
    )


def campaign_lead_stages(campaign: Campaign) -> list[tuple[str, str, int]]:
    counts = dict(
        Contact.objects.filter(first_touch_campaign=campaign).order_by().values_list("lifecycle_stage").annotate(n=Count("id"))
    )
    return [(stage.value, stage.label, counts.get(stage.value, 0)) for stage in Stage]


def campaign_touchpoints_by_week(campaign: Campaign) -> list[tuple[str, int]]:
    rows = (
        Touchpoint.objects.filter(campaign=campaign)
        .annotate(week=TruncWeek("occurred_at"))
        .order_by("week")
        .values_list("week")
        .annotate(n=Count("id"))
    )
    return [(week.strftime("%Y-%m-%d"), n) for week, n in rows]
