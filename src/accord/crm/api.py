"""Accounts, contacts (with their lifecycle moves) and opportunities over JSON.

Lists read their filters with the same definitions the pages and the CSV export use
(``accord.crm.queries``), so a filter means one thing everywhere.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from accord.core import idempotency
from accord.core.errors import ValidationFailed
from accord.core.models import User
from accord.core.permissions import Perm, require_perm
from accord.core.schemas import PageParams, page, page_of, parsed_query, resolve_ids
from accord.crm import queries, services
from accord.crm.models import Account, Contact, Opportunity, OpportunityStage, StageChange
from accord.crm.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    ContactCreateIn,
    ContactIn,
    ContactOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    StageChangeOut,
    StageMoveIn,
    StageMoveOut,
)

router = Router(tags=["crm"])


def _active_users() -> QuerySet:
    return User.objects.filter(is_active=True)


def _contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("account", "owner").prefetch_related("interests")


def _opportunities() -> QuerySet[Opportunity]:
    return Opportunity.objects.select_related("account", "owner")


# Contacts ---------------------------------------------------------------------------------


class ContactQuery(Schema):
    """The contact filter (see accord.crm.queries.ContactFilter); documented here, read there."""

    q: str | None = None
    stage: str | None = Query(None, description="lifecycle stages, comma-separated (lead,mql)")
    owner: str | None = Query(None, description="user id, or 'none' for unowned contacts")
    campaign: int | None = Query(None, description="touched by this campaign id")
    account: int | None = None
    created_from: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    created_to: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    min_score: int | None = None
    grade: str | None = Query(None, description="A, B, C or D")
    sort: str | None = Query(None, description=", ".join(queries.CONTACT_SORTS))


def _check_contact_named(values: dict, contact: Contact | None = None) -> None:
    def current(name: str) -> str:
        return values[name] if name in values else getattr(contact, name, "")

    if not (current("email") or current("first_name") or current("last_name")):
        raise ValidationFailed.single("email", "a contact needs an email address or a name")


@router.get("/contacts", response=page_of(ContactOut), summary="List contacts")
def contact_list(request, filters: Query[ContactQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    contact_filter = parsed_query(queries.contact_filter_from_params, request.GET)
    return page(queries.contacts_matching(contact_filter).prefetch_related("interests"), paging)


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact", description=idempotency.DESCRIPTION)
def contact_create(request, payload: ContactCreateIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.EDIT_CONTACTS)

    def run() -> tuple[int, dict]:
        values = resolve_ids(
            payload.model_dump(exclude={"interests", "lifecycle_stage"}),
            {"account_id": Account.objects.all(), "owner_id": _active_users()},
        )
        _check_contact_named(values)
        contact = services.contact_create(
            fields=services.ContactFields(values, interests=payload.interests),
            actor=request.user,
            stage=payload.lifecycle_stage,
            reason="created through the API",
        )
        return 201, ContactOut.from_orm(_contacts().get(pk=contact.pk)).model_dump()

    return idempotency.idempotent_response(request, endpoint="contacts", key=idempotency_key, payload=payload, run=run)


@router.get("/contacts/{int:contact_id}", response=ContactOut, summary="Read a contact")
def contact_detail(request, contact_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(_contacts(), pk=contact_id)


@router.patch("/contacts/{int:contact_id}", response=ContactOut, summary="Update a contact (only the fields sent)")
def contact_update(request, contact_id: int, payload: ContactIn):
    require_perm(request.user, Perm.EDIT_CONTACTS)
    contact = get_object_or_404(Contact, pk=contact_id)
    values = resolve_ids(
        payload.model_dump(exclude_unset=True, exclude={"interests"}),
        {"account_id": Account.objects.all(), "owner_id": _active_users()},
    )
    _check_contact_named(values, contact)
    interests = payload.interests if "interests" in payload.model_fields_set else None
    services.contact_update(
        contact=contact, fields=services.ContactFields(values, interests=interests), actor=request.user
    )
    return _contacts().get(pk=contact.pk)


@router.post(
    "/contacts/{int:contact_id}/stage",
    response=StageMoveOut,
    summary="Move a contact along its lifecycle (a backward move needs a reason)",
)
def contact_stage_move(request, contact_id: int, payload: StageMoveIn):
    require_perm(request.user, Perm.CHANGE_STAGE)
    contact = get_object_or_404(Contact, pk=contact_id)
    change = services.contact_change_stage(
        contact=contact, to_stage=payload.lifecycle_stage, actor=request.user, reason=payload.reason
    )
    return {"contact": _contacts().get(pk=contact.pk), "stage_change": change}


@router.get(
    "/contacts/{int:contact_id}/stage-changes",
    response=page_of(StageChangeOut),
    summary="A contact's lifecycle moves, newest first",
)
def contact_stage_changes(request, contact_id: int, paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    contact = get_object_or_404(Contact, pk=contact_id)
    changes = StageChange.objects.filter(contact=contact).select_related("changed_by").order_by("-changed_at", "-id")
    return page(changes, paging)


# Accounts ---------------------------------------------------------------------------------


class AccountQuery(Schema):
    q: str | None = Query(None, description="words in the name or domain")
    owner: str | None = Query(None, description="user id, or 'none'")
    industry: str | None = None
    country: str | None = Query(None, description="two-letter code")
    campaign: int | None = Query(None, description="one of its people was touched by this campaign id")
    created_from: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    created_to: str | None = Query(None, description="YYYY-MM-DD, inclusive")


@router.get("/accounts", response=page_of(AccountOut), summary="List accounts")
def account_list(request, filters: Query[AccountQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    account_filter = parsed_query(queries.account_filter_from_params, request.GET)
    return page(queries.accounts_matching(account_filter), paging)


@router.post("/accounts", response={201: AccountOut}, summary="Create an account", description=idempotency.DESCRIPTION)
def account_create(request, payload: AccountIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.EDIT_CONTACTS)

    def run() -> tuple[int, dict]:
        values = resolve_ids(payload.model_dump(), {"owner_id": _active_users()})
        account = services.account_create(values=values, actor=request.user)
        return 201, AccountOut.from_orm(Account.objects.select_related("owner").get(pk=account.pk)).model_dump()

    return idempotency.idempotent_response(request, endpoint="accounts", key=idempotency_key, payload=payload, run=run)


@router.get("/accounts/{int:account_id}", response=AccountOut, summary="Read an account")
def account_detail(request, account_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(Account.objects.select_related("owner"), pk=account_id)


@router.patch("/accounts/{int:account_id}", response=AccountOut, summary="Update an account (only the fields sent)")
def account_update(request, account_id: int, payload: AccountPatch):
    require_perm(request.user, Perm.EDIT_CONTACTS)
    account = get_object_or_404(Account, pk=account_id)
    values = resolve_ids(payload.model_dump(exclude_unset=True), {"owner_id": _active_users()})
    if "name" in values and not values["name"]:
        raise ValidationFailed.single("name", "is required")
    services.account_update(account=account, values=values, actor=request.user)
    return Account.objects.select_related("owner").get(pk=account.pk)


# Opportunities ----------------------------------------------------------------------------


class OpportunityQuery(Schema):
    q: str | None = Query(None, description="words in the name or the account's name")
    stage: str | None = Query(
        None, description=f"stages, comma-separated: {', '.join(OpportunityStage.values)}, or 'open'"
    )
    owner: str | None = Query(None, description="user id, or 'none'")
    account: int | None = None
    contact: int | None = Query(None, description="primary contact id")
    campaign: int | None = Query(None, description="its primary contact was touched by this campaign id")
    created_from: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    created_to: str | None = Query(None, description="YYYY-MM-DD, inclusive")
    close_from: str | None = Query(None, description="close date from, YYYY-MM-DD")
    close_to: str | None = Query(None, description="close date to, YYYY-MM-DD")


_OPPORTUNITY_REFS = {
    "account_id": Account.objects.all(),
    "primary_contact_id": Contact.objects.all(),
    "owner_id": _active_users(),
}


def _check_lost_reason(values: dict, opportunity: Opportunity | None = None) -> None:
    stage = values.get("stage", getattr(opportunity, "stage", None))
    reason = values.get("lost_reason", getattr(opportunity, "lost_reason", ""))
    if stage == OpportunityStage.LOST and not reason:
        raise ValidationFailed.single("lost_reason", "is required when an opportunity is lost")


@router.get("/opportunities", response=page_of(OpportunityOut), summary="List opportunities")
def opportunity_list(request, filters: Query[OpportunityQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.VIEW_RECORDS)
    opportunity_filter = parsed_query(queries.opportunity_filter_from_params, request.GET)
    return page(queries.opportunities_matching(opportunity_filter), paging)


@router.post(
    "/opportunities", response={201: OpportunityOut}, summary="Open an opportunity", description=idempotency.DESCRIPTION
)
def opportunity_create(request, payload: OpportunityIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.MANAGE_OPPORTUNITIES)

    def run() -> tuple[int, dict]:
        values = resolve_ids(payload.model_dump(), _OPPORTUNITY_REFS)
        _check_lost_reason(values)
        opportunity = services.opportunity_create(values=values, actor=request.user)
        return 201, OpportunityOut.from_orm(_opportunities().get(pk=opportunity.pk)).model_dump()

    return idempotency.idempotent_response(
        request, endpoint="opportunities", key=idempotency_key, payload=payload, run=run
    )


@router.get("/opportunities/{int:opportunity_id}", response=OpportunityOut, summary="Read an opportunity")
def opportunity_detail(request, opportunity_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(_opportunities(), pk=opportunity_id)


@router.patch(
    "/opportunities/{int:opportunity_id}",
    response=OpportunityOut,
    summary="Update an opportunity (only the fields sent); won or lost closes it",
)
def opportunity_update(request, opportunity_id: int, payload: OpportunityPatch):
    require_perm(request.user, Perm.MANAGE_OPPORTUNITIES)
    opportunity = get_object_or_404(Opportunity.objects.select_related("primary_contact"), pk=opportunity_id)
    values = resolve_ids(payload.model_dump(exclude_unset=True), _OPPORTUNITY_REFS)
    if "name" in values and not values["name"]:
        raise ValidationFailed.single("name", "is required")
    _check_lost_reason(values, opportunity)
    services.opportunity_update(opportunity=opportunity, values=values, actor=request.user)
    return _opportunities().get(pk=opportunity.pk)
