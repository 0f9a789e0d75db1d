"""Reads on campaigns and touchpoints: the list filters the pages and the API share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from accord.campaigns.models import Campaign, CampaignStatus, Channel, Touchpoint, TouchpointKind
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.core.params import ParamReader, within_days


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
