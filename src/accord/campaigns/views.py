"""Campaign pages: the list with results, one campaign's leads and revenue, create and edit."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import redirect, render

from accord.campaigns import queries
from accord.campaigns.forms import CampaignForm
from accord.campaigns.models import CampaignStatus, Channel
from accord.campaigns.services import campaign_create, campaign_update
from accord.core.charts import bar_chart, line_chart
from accord.core.errors import ValidationFailed
from accord.core.forms import add_service_errors
from accord.core.permissions import Perm, has_perm, require_perm


@login_required
def campaign_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    errors: dict[str, str] = {}
    try:
        campaign_filter = queries.campaign_filter_from_params(request.GET)
    except ValidationFailed as failure:
        errors, campaign_filter = failure.errors, queries.CampaignFilter()
    campaigns = queries.campaigns_matching(campaign_filter).order_by(F("start_date").desc(nulls_last=True), "name", "id")
    page = Paginator(campaigns, settings.ACCORD_PAGE_SIZE).get_page(request.GET.get("page"))
    results = queries.campaign_results_for([c.pk for c in page])
    rows = [(c, results[c.pk], results[c.pk].cost_per_lead(c)) for c in page]
    context = {
        "page": page,
        "rows": rows,
        "filter": campaign_filter,
        "errors": errors,
        "channels": Channel.choices,
        "statuses": CampaignStatus.choices,
        "leads_chart": bar_chart([(c.name[:22], r.leads) for c, r, _ in rows[:15]], title="Leads brought per campaign"),
        "won_chart": bar_chart(
            [(c.name[:22], r.won) for c, r, _ in rows[:15]], title="Won revenue per campaign", color="#0f8a6a"
        ),
        "can_manage": has_perm(request.user, Perm.MANAGE_CAMPAIGNS),
    }
    return render(request, "campaigns/campaign_list.html", context, status=400 if errors else 200)


@login_required
def campaign_detail(request, campaign_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    campaign = queries.campaign_for_page(campaign_id)
    results = queries.campaign_results_for([campaign.pk])[campaign.pk]
    stages = queries.campaign_lead_stages(campaign)
    context = {
        "campaign": campaign,
        "results": results,
        "cost_per_lead": results.cost_per_lead(campaign),
        "return_on_cost": results.return_on_cost(campaign),
        "stage_chart": bar_chart([(label, n) for _, label, n in stages], title="Leads by lifecycle stage"),
        "weekly_chart": line_chart(queries.campaign_touchpoints_by_week(campaign), title="Touchpoints per week"),
        "leads": Paginator(queries.campaign_leads(campaign), 25).get_page(request.GET.get("page")),
        "can_manage": has_perm(request.user, Perm.MANAGE_CAMPAIGNS),
    }
    return render(request, "campaigns/campaign_detail.html", context)


def _save(request, form: CampaignForm, campaign=None):
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = campaign_create(values=form.cleaned_data, actor=request.user)
            else:
                campaign_update(campaign=campaign, values=form.cleaned_data, actor=request.user)
        except ValidationFailed as failure:
            add_service_errors(form, failure)
        else:
            messages.success(request, f"Saved {campaign.name}.")
            return redirect("campaign_detail", campaign_id=campaign.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign}, status=status)


@login_required
def campaign_new(request):
    require_perm(request.user, Perm.MANAGE_CAMPAIGNS)
    initial = {"owner": request.user.pk, "currency": "USD", "status": CampaignStatus.PLANNED}
    return _save(request, CampaignForm(request.POST or None, initial=initial))


@login_required
def campaign_edit(request, campaign_id: int):
    require_perm(request.user, Perm.MANAGE_CAMPAIGNS)
    campaign = queries.campaign_for_page(campaign_id)
    initial = {name: getattr(campaign, name) for name in CampaignForm.base_fields}
    return _save(request, CampaignForm(request.POST or None, initial=initial), campaign)
