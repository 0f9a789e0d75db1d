"""Reads on the shared record. The contact filter here is the one the pages, the API and the
CSV export all use, so a list means the same thing wherever it is shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accord.campaigns.models import Touchpoint
from accord.core.errors import ValidationFailed
from accord.core.params import ParamReader, within_days
from accord.crm.lifecycle import Stage
from accord.crm.models import OPEN_OPPORTUNITY_STAGES, Account, Contact, Opportunity, OpportunityStage, StageChange

CONTACT_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "score": ("-score", "-id"),
    "name": ("last_name", "first_name", "id"),
    "latest_touch": ("-latest_touch_at", "-id"),
}


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    stages: tuple[str, ...] = ()
    owner_id: int | None = None
    unowned: bool = False
    campaign_id: int | None = None
    account_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    min_score: int | None = None
    grade: str = ""
    sort: str = "newest"

    def as_params(self) -> dict[str, str]:
        """The filter as query-string values (for links to the next page or the CSV export)."""
        params: dict[str, object] = {
            "q": self.q,
            "stage": ",".join(self.stages),
            "owner": "none" if self.unowned else self.owner_id,
            "campaign": self.campaign_id,
            "account": self.account_id,
            "created_from": self.created_from,
            "created_to": self.created_to,
            "min_score": self.min_score,
            "grade": self.grade,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        return {key: str(value) for key, value in params.items() if value not in (None, "")}


def contact_filter_from_params(params: Mapping[str, object]) -> ContactFilter:
    """Read a filter from query parameters; ValidationFailed names each bad parameter."""
    read = ParamReader(params)
    q = read.text("q")
    stages = read.choices("stage", Stage.values, "a lifecycle stage")
    owner_id, unowned = _owner(read)
    grade = read.single("grade").upper()
    if grade and grade not in ("A", "B", "C", "D"):
        read.errors["grade"] = "must be A, B, C or D"
    sort = read.single("sort") or "newest"
    if sort not in CONTACT_SORTS:
        read.errors["sort"] = f"must be one of {', '.join(CONTACT_SORTS)}"
    created_from, created_to = read.day_range("created_from", "created_to")
    result = ContactFilter(
        q=q,
        stages=stages,
        owner_id=owner_id,
        unowned=unowned,
        campaign_id=read.whole("campaign"),
        account_id=read.whole("account"),
        created_from=created_from,
        created_to=created_to,
        min_score=read.whole("min_score", low=-100000, high=100000),
        grade=grade,
        sort=sort,
    )
    if read.errors:
        raise ValidationFailed(read.errors)
    return result


def _owner(read: ParamReader) -> tuple[int | None, bool]:
    """``owner=<id>`` or ``owner=none`` for the unowned."""
    unowned = read.single("owner").lower() == "none"
    return (None if unowned else read.whole("owner")), unowned


def contacts_matching(contact_filter: ContactFilter) -> QuerySet[Contact]:
    f = contact_filter
    contacts = Contact.objects.select_related("account", "owner")
    if f.q:
        words = f.q.split()
        for word in words[:5]:
            contacts = contacts.filter(
                Q(email__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(account__name__icontains=word)
                | Q(job_title__icontains=word)
            )
    if f.stages:
        contacts = contacts.filter(lifecycle_stage__in=f.stages)
    if f.unowned:
        contacts = contacts.filter(owner__isnull=True)
    elif f.owner_id:
        contacts = contacts.filter(owner_id=f.owner_id)
    if f.campaign_id:
        contacts = contacts.filter(
            Exists(Touchpoint.objects.filter(contact=OuterRef("pk"), campaign_id=f.campaign_id))
        )
    if f.account_id:
        contacts = contacts.filter(account_id=f.account_id)
    contacts = within_days(contacts, "created_at", f.created_from, f.created_to)
    if f.min_score is not None:
        contacts = contacts.filter(score__gte=f.min_score)
    if f.grade:
        contacts = contacts.filter(grade=f.grade)
    return contacts.order_by(*CONTACT_SORTS[f.sort])


def contact_timeline(contact: Contact) -> QuerySet[Touchpoint]:
    """Everything both teams did with this person, newest first."""
    return Touchpoint.objects.filter(contact=contact).select_related("campaign", "actor").order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class AccountFilter:
    q: str = ""
    owner_id: int | None = None
    unowned: bool = False
    industry: str = ""
    country: str = ""
    campaign_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None


def account_filter_from_params(params: Mapping[str, object]) -> AccountFilter:
    read = ParamReader(params)
    owner_id, unowned = _owner(read)
    created_from, created_to = read.day_range("created_from", "created_to")
    result = AccountFilter(
        q=read.text("q"),
        owner_id=owner_id,
        unowned=unowned,
        industry=read.text("industry", max_length=100),
        country=read.text("country", max_length=2).upper(),
        campaign_id=read.whole("campaign"),
        created_from=created_from,
        created_to=created_to,
    )
    if read.errors:
        raise ValidationFailed(read.errors)
    return result


def accounts_matching(account_filter: AccountFilter) -> QuerySet[Account]:
    f = account_filter
    accounts = Account.objects.select_related("owner")
    for word in f.q.split()[:5]:
        accounts = accounts.filter(Q(name__icontains=word) | Q(domain__icontains=word))
    if f.unowned:
        accounts = accounts.filter(owner__isnull=True)
    elif f.owner_id:
        accounts = accounts.filter(owner_id=f.owner_id)
    if f.industry:
        accounts = accounts.filter(industry__iexact=f.industry)
    if f.country:
        accounts = accounts.filter(country=f.country)
    if f.campaign_id:
        accounts = accounts.filter(
            Exists(Touchpoint.objects.filter(contact__account=OuterRef("pk"), campaign_id=f.campaign_id))
        )
    accounts = within_days(accounts, "created_at", f.created_from, f.created_to)
    return accounts.order_by("name", "id")


@dataclass(frozen=True)
class OpportunityFilter:
    q: str = ""
    stages: tuple[str, ...] = ()
    open_only: bool = False
    owner_id: int | None = None
    unowned: bool = False
    account_id: int | None = None
    contact_id: int | None = None
    campaign_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    close_from: date | None = None
    close_to: date | None = None


def opportunity_filter_from_params(params: Mapping[str, object]) -> OpportunityFilter:
    read = ParamReader(params)
    stages = read.choices("stage", [*OpportunityStage.values, "open"], "an opportunity stage")
    owner_id, unowned = _owner(read)
    created_from, created_to = read.day_range("created_from", "created_to")
    close_from, close_to = read.day_range("close_from", "close_to")
    result = OpportunityFilter(
        q=read.text("q"),
        stages=tuple(stage for stage in stages if stage != "open"),
        open_only="open" in stages,
        owner_id=owner_id,
        unowned=unowned,
        account_id=read.whole("account"),
        contact_id=read.whole("contact"),
        campaign_id=read.whole("campaign"),
        created_from=created_from,
        created_to=created_to,
        close_from=close_from,
        close_to=close_to,
    )
    if read.errors:
        raise ValidationFailed(read.errors)
    return result


def opportunities_matching(opportunity_filter: OpportunityFilter) -> QuerySet[Opportunity]:
    """Deals matching the filter. ``campaign`` keeps deals whose primary contact that campaign touched."""
    f = opportunity_filter
    deals = Opportunity.objects.select_related("account", "owner")
    for word in f.q.split()[:5]:
        deals = deals.filter(Q(name__icontains=word) | Q(account__name__icontains=word))
    stages = set(f.stages) | (set(OPEN_OPPORTUNITY_STAGES) if f.open_only else set())
    if stages:
        deals = deals.filter(stage__in=stages)
    if f.unowned:
        deals = deals.filter(owner__isnull=True)
    elif f.owner_id:
        deals = deals.filter(owner_id=f.owner_id)
    if f.account_id:
        deals = deals.filter(account_id=f.account_id)
    if f.contact_id:
        deals = deals.filter(primary_contact_id=f.contact_id)
    if f.campaign_id:
        deals = deals.filter(
            Exists(Touchpoint.objects.filter(contact_id=OuterRef("primary_contact_id"), campaign_id=f.campaign_id))
        )
    deals = within_days(deals, "created_at", f.created_from, f.created_to)
    if f.close_from:
        deals = deals.filter(close_date__gte=f.close_from)
    if f.close_to:
        deals = deals.filter(close_date__lte=f.close_to)
    return deals.order_by("-created_at", "-id")


# --- Reads for the pages -------------------------------------------------------------------


def contact_for_page(contact_id: int) -> Contact:
    """One contact with what its page shows alongside it, or Http404."""
    return get_object_or_404(
        Contact.objects.select_related("account", "owner", "first_touch_campaign", "latest_touch_campaign"),
        pk=contact_id,
    )


def contact_stage_history(contact: Contact) -> QuerySet[StageChange]:
    return StageChange.objects.filter(contact=contact).select_related("changed_by").order_by("-changed_at", "-id")


def contact_opportunities(contact: Contact) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(primary_contact=contact).select_related("account", "owner").order_by("-created_at", "-id")


def stage_counts(contacts: QuerySet[Contact] | None = None) -> list[tuple[str, str, int]]:
    """(stage, label, number of contacts) for every stage, in lifecycle order, in one query."""
    base = Contact.objects.all() if contacts is None else contacts
    counts = dict(base.order_by().values_list("lifecycle_stage").annotate(n=Count("id")))
    return [(stage.value, stage.label, counts.get(stage.value, 0)) for stage in Stage]


def accounts_with_head_counts(account_filter: AccountFilter) -> QuerySet[Account]:
    """The account list: the shared filter, with how many people each account has."""
    return accounts_matching(account_filter).annotate(contact_count=Count("contacts", distinct=True))


def account_people(account: Account) -> QuerySet[Contact]:
    return Contact.objects.filter(account=account).select_related("owner").order_by("last_name", "first_name", "id")


def account_opportunities(account: Account) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(account=account).select_related("primary_contact", "owner").order_by("-created_at", "-id")


def account_timeline(account: Account) -> QuerySet[Touchpoint]:
    """Every touchpoint with every person at the account, by both teams, newest first."""
    return (
        Touchpoint.objects.filter(contact__account=account)
        .select_related("contact", "campaign", "actor")
        .order_by("-occurred_at", "-id")
    )


@dataclass
class BoardColumn:
    stage: str
    label: str
    count: int
    total: Decimal
    deals: list


BOARD_COLUMN_SIZE = 25


def opportunity_board(opportunity_filter: OpportunityFilter) -> list[BoardColumn]:
    """One column per stage: its count and amount, and its first deals (soonest close first;
    closed columns show the most recently closed). One query for the totals and one per column."""
    deals = opportunities_matching(opportunity_filter).select_related("primary_contact")
    totals = {
        row["stage"]: row
        for row in deals.order_by().values("stage").annotate(n=Count("id"), total=Sum("amount"))
    }
    columns = []
    for stage in OpportunityStage:
        if stage in (OpportunityStage.WON, OpportunityStage.LOST):
            ordered = deals.filter(stage=stage).order_by("-closed_at", "-id")
        else:
            ordered = deals.filter(stage=stage).order_by(F("close_date").asc(nulls_last=True), "id")
        row = totals.get(stage.value, {})
        columns.append(
            BoardColumn(
                stage=stage.value,
                label=stage.label,
                count=row.get("n", 0),
                total=row.get("total") or Decimal("0"),
                deals=list(ordered[:BOARD_COLUMN_SIZE]) if row.get("n") else [],
            )
        )
    return columns


def contacts_owned_by(user) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(owner=user)
        .select_related("account")
        .order_by(F("latest_touch_at").desc(nulls_last=True), "-id")
    )


def open_opportunities_of(user) -> QuerySet[Opportunity]:
    return (
        Opportunity.objects.filter(owner=user, stage__in=OPEN_OPPORTUNITY_STAGES)
        .select_related("account", "primary_contact")
        .order_by(F("close_date").asc(nulls_last=True), "id")
    )
