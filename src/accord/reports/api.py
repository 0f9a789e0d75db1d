"""Reports API: the same numbers as the pages, as JSON. Everyone may read; managers set targets."""

from __future__ import annotations

from datetime import date

from ninja import Router, Schema

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.reports import queries
from accord.reports.models import Digest
from accord.reports.services import kpi_target_set, snapshots_refresh

router = Router(tags=["reports"])


def _params(request) -> dict[str, str]:
    return {key: value for key, value in request.GET.items()}


@router.get("/kpis")
def kpis(request):
    """The shared KPI cards for ``period`` (this_month, last_month, last_3_months, …, custom
    with ``from``/``to`` as YYYY-MM) and ``segment``, each with target, trend and drill-down URL."""
    require_perm(request.user, Perm.VIEW_REPORTS)
    params = _params(request)
    period = queries.period_from_params(params)
    segment = queries.segment_from_params(params)
    cards = queries.dashboard_kpis(period=period, segment=segment)
    return {"period": {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}, "segment": segment,
            "kpis": [card.as_json() for card in cards]}


@router.get("/kpis/{kpi}/records")
def kpi_records(request, kpi: str, page: int = 1):
    """The records behind one KPI number, 50 per page."""
    require_perm(request.user, Perm.VIEW_REPORTS)
    params = _params(request)
    drill = queries.kpi_records(
        kpi=kpi, period=queries.period_from_params(params), segment=queries.segment_from_params(params)
    )
    if page < 1:
        raise ValidationFailed.single("page", "must be 1 or more")
    size = 50
    rows = list(drill.rows[(page - 1) * size : page * size])
    return {
        "kpi": kpi,
        "count": drill.rows.count() if drill.columns else 0,
        "page": page,
        "columns": [key for key, _ in drill.columns],
        "results": [{key: row[key] for key, _ in drill.columns} for row in rows],
        "note": drill.note,
        "external_url": drill.external_url,
    }


@router.get("/roi")
def roi(request):
    """Cost, attributed results, ROI and cost per lead/MQL/opportunity per campaign and channel."""
    require_perm(request.user, Perm.VIEW_REPORTS)
    params = _params(request)
    table = queries.roi_table(model=queries.model_from_params(params), period=queries.period_from_params(params))
    return {
        "model": table.model,
        "campaigns": [row.as_json() for row in table.campaigns],
        "channels": [row.as_json() for row in table.channels],
        "totals": table.totals.as_json(),
        "records_lacking_data": table.counts,
        "markov_removal_effects": queries.markov_effects(metric="revenue"),
    }


@router.get("/roi/models")
def roi_models(request, metric: str = "revenue"):
    """One metric per campaign under every attribution model, side by side."""
    require_perm(request.user, Perm.VIEW_REPORTS)
    models, rows = queries.models_side_by_side(period=queries.period_from_params(_params(request)), metric=metric)
    return {"metric": metric, "models": models, "rows": rows}


@router.get("/funnel")
def funnel(request, dimension: str = "all", value: str = "", cohort: str = ""):
    """Conversion between stages and median hours in stage; ``cohort`` as YYYY-MM."""
    require_perm(request.user, Perm.VIEW_REPORTS)
    month = None
    if cohort:
        try:
            month = queries.parse_month(cohort)
        except (ValueError, TypeError):
            raise ValidationFailed.single("cohort", "give a month as YYYY-MM") from None
    steps = queries.funnel(dimension=dimension, value=value, cohort=month)
    return {
        "dimension": dimension,
        "value": value,
        "cohort": cohort,
        "stages": [
            {"stage": s.stage, "entered": s.entered, "advanced": s.advanced, "conversion": s.conversion,
             "median_hours": s.median_hours}
            for s in steps
        ],
    }


@router.get("/lead-quality")
def lead_quality(request, by: str = "source"):
    require_perm(request.user, Perm.VIEW_REPORTS)
    return queries.lead_quality(period=queries.period_from_params(_params(request)), by=by)


@router.get("/customer-mix")
def customer_mix(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    drift = queries.customer_mix_drift(period=queries.period_from_params(_params(request)))
    drift["period"] = {"from": f"{drift['period'].first:%Y-%m}", "to": f"{drift['period'].last:%Y-%m}"}
    return drift


class TargetIn(Schema):
    kpi: str
    value: str
    segment: str = ""
    month: str = ""  # YYYY-MM; empty for every month


@router.put("/targets")
def target_set(request, payload: TargetIn):
    """Set or replace a KPI target (managers and admins)."""
    require_perm(request.user, Perm.MANAGE_KPI_TARGETS)
    month: date | None = None
    if payload.month:
        try:
            month = queries.parse_month(payload.month)
        except (ValueError, TypeError):
            raise ValidationFailed.single("month", "give a month as YYYY-MM") from None
    target = kpi_target_set(kpi=payload.kpi, value=payload.value, segment=payload.segment, month=month, actor=request.user)
    return {"kpi": target.kpi, "segment": target.segment, "month": f"{target.month:%Y-%m}" if target.month else "",
            "value": str(target.value)}


@router.post("/refresh")
def refresh(request):
    """Rebuild the snapshot tables now (managers and admins)."""
    require_perm(request.user, Perm.MANAGE_KPI_TARGETS)
    run = snapshots_refresh()
    return {"refreshed_at": run.finished_at, "counts": run.counts, "timings": run.timings}


@router.get("/digests")
def digests(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    return [
        {"month": f"{d.month:%Y-%m}", "subject": d.subject, "sent_at": d.sent_at, "recipients": d.recipients}
        for d in Digest.objects.defer("html", "text")[:24]
    ]
