"""The shared record's pages: home, contacts, the 360° page, accounts and the opportunity board.

Views stay thin: check the role, read through accord.crm.queries, write through one service.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accord.campaigns.models import Campaign
from accord.campaigns.services import touchpoint_log
from accord.core.charts import bar_chart
from accord.core.errors import ValidationFailed
from accord.core.forms import add_service_errors
from accord.core.models import User
from accord.core.permissions import Perm, has_perm, require_perm
from accord.crm import queries
from accord.crm.forms import ContactForm, OpportunityForm, TouchpointLogForm
from accord.crm.lifecycle import ALLOWED_MOVES, Stage
from accord.crm.models import Account, Opportunity, OpportunityStage
from accord.crm.panels import account_panels, contact_panels, home_panels
from accord.crm.services import (
    ContactFields,
    contact_change_stage,
    contact_update,
    opportunity_create,
    opportunity_update,
)

TIMELINE_PAGE_SIZE = 25
HISTORY_LIMIT = 50


def _page(request, items, *, param: str = "page", size: int | None = None):
    return Paginator(items, size or settings.ACCORD_PAGE_SIZE).get_page(request.GET.get(param))


def _people():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


@login_required
def home(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    counts = queries.stage_counts()
    context = {
        "my_contacts": _page(request, queries.contacts_owned_by(request.user), size=10),
        "my_deals": queries.open_opportunities_of(request.user)[:10],
        "stage_counts": counts,
        "stage_chart": bar_chart([(label, n) for _, label, n in counts], title="Contacts by lifecycle stage"),
        # Extension point: cards other capabilities register (accord.crm.panels.register_home_panel).
        "panels": home_panels(request.user),
    }
    return render(request, "crm/home.html", context)


@login_required
def contact_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    errors: dict[str, str] = {}
    try:
        contact_filter = queries.contact_filter_from_params(request.GET)
    except ValidationFailed as failure:
        errors = failure.errors
        contact_filter = queries.ContactFilter()
    page = _page(request, queries.contacts_matching(contact_filter))
    context = {
        "page": page,
        "filter": contact_filter,
        "errors": errors,
        "stages": Stage.choices,
        "owners": _people(),
        "campaigns": Campaign.objects.order_by("name").only("id", "name"),
        "sorts": queries.CONTACT_SORTS,
        "can_export": has_perm(request.user, Perm.EXPORT_CONTACTS),
    }
    return render(request, "crm/contact_list.html", context, status=400 if errors else 200)


def _stage_targets(contact) -> list[tuple[str, str, bool]]:
    moves = ALLOWED_MOVES.get(contact.lifecycle_stage, {})
    return [(stage.value, stage.label, moves[stage.value]) for stage in Stage if stage.value in moves]


def _render_contact(request, contact, *, log_form=None, stage_error: str = "", status: int = 200):
    user = request.user
    context = {
        "contact": contact,
        "interests": list(contact.interests.all()),
        "history": list(queries.contact_stage_history(contact)[:HISTORY_LIMIT]),
        "history_limit": HISTORY_LIMIT,
        "opportunities": list(queries.contact_opportunities(contact)[:50]),
        "timeline": _page(request, queries.contact_timeline(contact), size=TIMELINE_PAGE_SIZE),
        "stage_targets": _stage_targets(contact),
        "stage_error": stage_error,
        "log_form": log_form or TouchpointLogForm(),
        "can_edit": has_perm(user, Perm.EDIT_CONTACTS),
        "can_change_stage": has_perm(user, Perm.CHANGE_STAGE),
        "can_log": has_perm(user, Perm.LOG_TOUCHPOINTS),
        "can_manage_deals": has_perm(user, Perm.MANAGE_OPPORTUNITIES),
        # Extension point: panels other capabilities register (see accord.crm.panels).
        "panels": contact_panels(contact, user),
    }
    return render(request, "crm/contact_detail.html", context, status=status)


@login_required
def contact_detail(request, contact_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _render_contact(request, queries.contact_for_page(contact_id))


@login_required
@require_POST
def contact_stage(request, contact_id: int):
    require_perm(request.user, Perm.CHANGE_STAGE)
    contact = queries.contact_for_page(contact_id)
    to_stage = request.POST.get("to_stage", "")
    try:
        contact_change_stage(
            contact=contact, to_stage=to_stage, actor=request.user, reason=request.POST.get("reason", "")[:2000]
        )
    except ValidationFailed as failure:
        message = "; ".join(f"{field.replace('_', ' ')}: {text}" for field, text in failure.errors.items())
        return _render_contact(request, contact, stage_error=message, status=400)
    messages.success(request, f"Moved to {Stage(to_stage).label}.")
    return redirect("contact_detail", contact_id=contact.pk)


@login_required
@require_POST
def contact_log_touchpoint(request, contact_id: int):
    require_perm(request.user, Perm.LOG_TOUCHPOINTS)
    contact = queries.contact_for_page(contact_id)
    form = TouchpointLogForm(request.POST)
    if form.is_valid():
        try:
            touchpoint_log(contact=contact, actor=request.user, **form.cleaned_data)
        except ValidationFailed as failure:
            add_service_errors(form, failure)
        else:
            messages.success(request, "Logged.")
            return redirect("contact_detail", contact_id=contact.pk)
    return _render_contact(request, contact, log_form=form, status=400)


@login_required
def contact_edit(request, contact_id: int):
    require_perm(request.user, Perm.EDIT_CONTACTS)
    contact = queries.contact_for_page(contact_id)
    form = ContactForm(request.POST or None, initial=ContactForm.initial_for(contact))
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(
                contact=contact,
                fields=ContactFields(values=form.contact_values(), interests=form.interest_names()),
                actor=request.user,
            )
        except ValidationFailed as failure:
            add_service_errors(form, failure)
        else:
            messages.success(request, "Saved.")
            return redirect("contact_detail", contact_id=contact.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "crm/contact_form.html", {"form": form, "contact": contact}, status=status)


@login_required
def account_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    errors: dict[str, str] = {}
    try:
        account_filter = queries.account_filter_from_params(request.GET)
    except ValidationFailed as failure:
        errors, account_filter = failure.errors, queries.AccountFilter()
    accounts = queries.accounts_with_head_counts(account_filter)
    if request.GET.get("sort") == "contacts":
        accounts = accounts.order_by("-contact_count", "name", "id")
    context = {"page": _page(request, accounts), "filter": account_filter, "errors": errors}
    return render(request, "crm/account_list.html", context, status=400 if errors else 200)


@login_required
def account_detail(request, account_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    account = get_object_or_404(Account.objects.select_related("owner"), pk=account_id)
    people = queries.account_people(account)
    context = {
        "account": account,
        "people": _page(request, people, param="people_page", size=25),
        "stage_counts": [row for row in queries.stage_counts(people) if row[2]],
        "opportunities": _page(request, queries.account_opportunities(account), param="deals_page", size=25),
        "timeline": _page(request, queries.account_timeline(account), size=TIMELINE_PAGE_SIZE),
        "panels": account_panels(account, request.user),
    }
    return render(request, "crm/account_detail.html", context)


def _opportunity_filter(request):
    try:
        return queries.opportunity_filter_from_params(request.GET), {}
    except ValidationFailed as failure:
        return queries.OpportunityFilter(), failure.errors


@login_required
def opportunity_board(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    deal_filter, errors = _opportunity_filter(request)
    context = {
        "columns": queries.opportunity_board(deal_filter),
        "owners": _people(),
        "filter": deal_filter,
        "errors": errors,
        "can_manage_deals": has_perm(request.user, Perm.MANAGE_OPPORTUNITIES),
    }
    return render(request, "crm/opportunity_board.html", context, status=400 if errors else 200)


@login_required
def opportunity_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    deal_filter, errors = _opportunity_filter(request)
    deals = queries.opportunities_matching(deal_filter).select_related("primary_contact")
    stages = ", ".join(OpportunityStage(stage).label for stage in deal_filter.stages) or "All"
    context = {"page": _page(request, deals), "stage": stages, "errors": errors}
    return render(request, "crm/opportunity_list.html", context, status=400 if errors else 200)


def _opportunity_values(form: OpportunityForm) -> dict:
    values = dict(form.cleaned_data)
    values["lost_reason"] = values["lost_reason"].strip()
    return values


@login_required
def opportunity_new(request):
    require_perm(request.user, Perm.MANAGE_OPPORTUNITIES)
    initial = {"owner": request.user.pk, "currency": "USD", "stage": OpportunityStage.PROSPECTING}
    contact_id = request.GET.get("contact", "")
    if contact_id.isdigit():
        contact = queries.contact_for_page(int(contact_id))
        initial.update(primary_contact=contact.pk, account=contact.account_id, name=f"{contact.account or contact} deal")
    form = OpportunityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = opportunity_create(values=_opportunity_values(form), actor=request.user)
        except ValidationFailed as failure:
            add_service_errors(form, failure)
        else:
            messages.success(request, f"Opened {deal.name}.")
            return redirect("opportunity_edit", opportunity_id=deal.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "crm/opportunity_form.html", {"form": form, "deal": None}, status=status)


@login_required
def opportunity_page(request, opportunity_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    deal = get_object_or_404(Opportunity.objects.select_related("account", "primary_contact", "owner"), pk=opportunity_id)
    initial = {name: getattr(deal, name) for name in OpportunityForm.base_fields}
    form = OpportunityForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require_perm(request.user, Perm.MANAGE_OPPORTUNITIES)
        if form.is_valid():
            try:
                opportunity_update(opportunity=deal, values=_opportunity_values(form), actor=request.user)
            except ValidationFailed as failure:
                add_service_errors(form, failure)
            else:
                messages.success(request, "Saved.")
                return redirect("opportunity_edit", opportunity_id=deal.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "deal": deal, "can_manage_deals": has_perm(request.user, Perm.MANAGE_OPPORTUNITIES)}
    return render(request, "crm/opportunity_form.html", context, status=status)
