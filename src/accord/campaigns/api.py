"""Campaigns and the touchpoint log over JSON. Touchpoints are append-only: there is no
update or delete. Mounted at /api/campaigns; touchpoints live at /api/campaigns/touchpoints."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from accord.campaigns import queries, services
from accord.campaigns.models import Campaign, CampaignStatus, Channel, Touchpoint, TouchpointKind
from accord.campaigns.schemas import CampaignIn, CampaignOut, CampaignPatch, TouchpointIn, TouchpointOut
from accord.core import idempotency
from accord.core.errors import ValidationFailed
from accord.core.models import User
from accord.core.permissions import Perm, require_perm
from accord.core.schemas import PageParams, page, page_of, parsed_query, resolve_ids
from accord.crm.models import Contact

router = Router(tags=["campaigns"])


def _campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("owner")


def _touchpoints() -> QuerySet[Touchpoint]:
    return Touchpoint.objects.select_related("campaign", "actor")


# Touchpoints (declared first: their paths are more specific than /{campaign_id}) ----------


class TouchpointQuery(Schema):
    q: str | None = Query(None, description="words in the subject or body")
    contact: int | None = None
    account: int | None = Query(None, description="touchpoints of this account's people")
    campaign: int | None = None
    actor: int | None = Query(None, description="user id of who recorded it")
    kind: str | None = Query(None, description=f"comma-separated: {', '.join(TouchpointKind.values)}")
    channel: str | None = Query(None, description="comma-separated channels")
    team: str | None = Query(None, description="marketing or sales")
    occurred_from: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    occurred_to: str | None = Query(None, description="YYYY-MM-DD, inclusive")


@router.get("/touchpoints", response=page_of(TouchpointOut), summary="List touchpoints, newest first")
def touchpoint_list(request, filters: Query[TouchpointQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    touchpoint_filter = parsed_query(queries.touchpoint_filter_from_params, request.GET)
    return page(queries.touchpoints_matching(touchpoint_filter), paging)


@router.post(
    "/touchpoints",
    response={201: TouchpointOut},
    summary="Record a touchpoint (append-only)",
    description=idempotency.DESCRIPTION,
)
def touchpoint_create(request, payload: TouchpointIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.LOG_TOUCHPOINTS)

    def run() -> tuple[int, dict]:
        values = resolve_ids(
            payload.model_dump(), {"contact_id": Contact.objects.all(), "campaign_id": Campaign.objects.all()}
        )
        values["channel"] = values["channel"] or ""
        values["team"] = values["team"] or ""
        touchpoint = services.touchpoint_record(**values, actor=request.user)
        return 201, TouchpointOut.from_orm(_touchpoints().get(pk=touchpoint.pk)).model_dump()

    return idempotency.idempotent_response(
        request, endpoint="touchpoints", key=idempotency_key, payload=payload, run=run
    )


@router.get("/touchpoints/{int:touchpoint_id}", response=TouchpointOut, summary="Read a touchpoint")
def touchpoint_detail(request, touchpoint_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(_touchpoints(), pk=touchpoint_id)


# Campaigns --------------------------------------------------------------------------------


class CampaignQuery(Schema):
    q: str | None = Query(None, description="words in the name or utm_campaign")
    channel: str | None = Query(None, description=f"comma-separated: {', '.join(Channel.values)}")
    status: str | None = Query(None, description=f"comma-separated: {', '.join(CampaignStatus.values)}")
    owner: int | None = None
    active_on: str | None = Query(None, description="running on this day, YYYY-MM-DD")
    created_from: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    created_to: str | None = Query(None, description="YYYY-MM-DD, inclusive")


_CAMPAIGN_REFS = {"owner_id": User.objects.filter(is_active=True)}


@router.get("", response=page_of(CampaignOut), summary="List campaigns")
def campaign_list(request, filters: Query[CampaignQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    campaign_filter = parsed_query(queries.campaign_filter_from_params, request.GET)
    return page(queries.campaigns_matching(campaign_filter), paging)


@router.post("", response={201: CampaignOut}, summary="Create a campaign", description=idempotency.DESCRIPTION)
def campaign_create(request, payload: CampaignIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.MANAGE_CAMPAIGNS)

    def run() -> tuple[int, dict]:
        values = resolve_ids(payload.model_dump(), _CAMPAIGN_REFS)
        campaign = services.campaign_create(values=values, actor=request.user)
        return 201, CampaignOut.from_orm(_campaigns().get(pk=campaign.pk)).model_dump()

    return idempotency.idempotent_response(request, endpoint="campaigns", key=idempotency_key, payload=payload, run=run)


@router.get("/{int:campaign_id}", response=CampaignOut, summary="Read a campaign")
def campaign_detail(request, campaign_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(_campaigns(), pk=campaign_id)


@router.patch("/{int:campaign_id}", response=CampaignOut, summary="Update a campaign (only the fields sent)")
def campaign_update(request, campaign_id: int, payload: CampaignPatch):
    require_perm(request.user, Perm.MANAGE_CAMPAIGNS)
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    values = resolve_ids(payload.model_dump(exclude_unset=True), _CAMPAIGN_REFS)
    if "name" in values and not values["name"]:
        raise ValidationFailed.single("name", "is required")
    services.campaign_update(campaign=campaign, values=values, actor=request.user)
    return _campaigns().get(pk=campaign.pk)
