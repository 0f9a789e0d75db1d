"""Report pages: thin views over ``queries`` and ``services``; every one checks the role."""

from __future__ import annotations

import csv
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, has_perm, require_perm
from accord.reports import queries
from accord.reports.attribution import MODEL_LABELS, MODELS
from accord.reports.charts import bars, sparkline
from accord.reports.models import Digest, Kpi, KpiTarget, Segment
from accord.reports.services import METRICS, kpi_target_set, snapshots_refresh


class _Echo:
    def write(self, value):
        return value


def _safe_cell(value) -> str:
    """Spreadsheet-safe text: a leading = + - @ would be run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filters(request):
    """Period and segment from the query string; a bad value falls back with its message."""
    errors = {}
    try:
        period = queries.period_from_params(request.GET)
    except ValidationFailed as failed:
        errors.update(failed.errors)
        period = queries.period_from_params({})
    try:
        segment = queries.segment_from_params(request.GET)
    except ValidationFailed as failed:
        errors.update(failed.errors)
        segment = ""
    return period, segment, errors


def _filter_context(period, segment, errors):
    return {
        "period": period,
        "segment": segment,
        "errors": errors,
        "periods": queries.PERIODS.items(),
        "segments": Segment.choices,
        "query": urlencode({**period.as_params(), **({"segment": segment} if segment else {})}),
    }


@login_required
def dashboard(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    period, segment, errors = _filters(request)
    cards = queries.dashboard_kpis(period=period, segment=segment)
    for card in cards:
        card.chart = sparkline([v for _, v in card.trend], label=f"{card.label}, last 12 months")
    return render(
        request,
        "reports/dashboard.html",
        {
            **_filter_context(period, segment, errors),
            "cards": cards,
            "refresh": queries.latest_refresh(),
            "can_manage": has_perm(request.user, Perm.MANAGE_KPI_TARGETS),
        },
    )


@login_required
def dashboard_csv(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    period, segment, _ = _filters(request)
    cards = queries.dashboard_kpis(period=period, segment=segment)
    flat = []
    for card in cards:
        flat.append(card)
        if card.secondary is not None:
            flat.append(card.secondary)
    months = [m for m, _ in cards[0].trend]
    header = ["kpi", "label", "period", "segment", "value", "target", "on_track", "note", *[f"{m:%Y-%m}" for m in months]]
    rows = (
        [
            c.kpi,
            c.label,
            period.label,
            segment or "all",
            "" if c.value is None else round(c.value, 6),
            "" if c.target is None else c.target,
            "" if c.on_track is None else ("yes" if c.on_track else "no"),
            c.note,
            *["" if v is None else round(v, 6) for _, v in c.trend],
        ]
        for c in flat
    )
    return csv_response("kpis.csv", header, rows)


@login_required
def kpi_records(request, kpi: str):
    require_perm(request.user, Perm.VIEW_REPORTS)
    if kpi not in Kpi.values:
        raise Http404("No such KPI.")
    period, segment, errors = _filters(request)
    drill = queries.kpi_records(kpi=kpi, period=period, segment=segment)
    if request.GET.get("format") == "csv":
        keys = [key for key, _ in drill.columns]
        return csv_response(
            f"{kpi}-{period.first:%Y-%m}.csv",
            [heading for _, heading in drill.columns],
            ([row[key] for key in keys] for row in drill.rows.iterator(chunk_size=2000)),
        )
    page = Paginator(drill.rows, settings.ACCORD_PAGE_SIZE).get_page(request.GET.get("page"))
    keys = [key for key, _ in drill.columns]
    rows = [[row[key] for key in keys] for row in page.object_list]
    return render(
        request,
        "reports/kpi_records.html",
        {
            **_filter_context(period, segment, errors),
            "drill": drill,
            "page": page,
            "rows": rows,
            "link_column": "contact" if keys and drill.columns[0][1] == "Contact id" else "opportunity",
        },
    )


@login_required
def roi(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    period, _, errors = _filters(request)
    try:
        model = queries.model_from_params(request.GET)
    except ValidationFailed as failed:
        errors.update(failed.errors)
        model = "linear"
    metric = request.GET.get("metric") or "revenue"
    if metric not in METRICS:
        errors["metric"] = f"use one of {', '.join(METRICS)}"
        metric = "revenue"
    table = queries.roi_table(model=model, period=period)
    if request.GET.get("format") == "csv":
        header = ["campaign_id", "campaign", "channel", "cost", "cost_note", *METRICS, "roi", "cost_per_lead", "cost_per_mql", "cost_per_opportunity"]
        return csv_response(
            f"roi-{model}.csv",
            header,
            (
                [r.campaign_id or "", r.label, r.channel, "" if r.cost is None else round(r.cost, 2), r.cost_note,
                 *[round(getattr(r, m), 4) for m in METRICS],
                 *["" if v is None else round(v, 4) for v in (r.roi, r.cost_per_lead, r.cost_per_mql, r.cost_per_opportunity)]]
                for r in table.campaigns
            ),
        )
    models, side_by_side = queries.models_side_by_side(period=period, metric=metric)
    markov = queries.markov_effects(metric=metric)[:15]
    chart = bars([(r.label[:20], r.revenue, queries.format_money(r.revenue)) for r in table.channels[:10]])
    return render(
        request,
        "reports/roi.html",
        {
            **_filter_context(period, "", errors),
            "table": table,
            "model": model,
            "models": [(m, MODEL_LABELS[m]) for m in MODELS],
            "metric": metric,
            "metrics": METRICS,
            "side_models": [(m, MODEL_LABELS[m]) for m in models],
            "side_rows": [[row["label"], *[row[m] for m in models]] for row in side_by_side[:50]],
            "markov": markov,
            "chart": chart,
            "currency": queries.reporting_currency(),
            "query": urlencode({**period.as_params(), "model": model, "metric": metric}),
        },
    )


@login_required
def funnel(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    errors = {}
    dimension = request.GET.get("dimension") or "all"
    if dimension not in queries.FUNNEL_DIMENSIONS:
        errors["dimension"] = f"use one of {', '.join(queries.FUNNEL_DIMENSIONS)}"
        dimension = "all"
    value = request.GET.get("value", "")
    cohort = None
    if request.GET.get("cohort"):
        try:
            cohort = queries.parse_month(request.GET["cohort"])
        except (ValueError, TypeError):
            errors["cohort"] = "give a month as YYYY-MM"
    values = queries.funnel_values(dimension)
    if dimension != "all" and not value and values:
        value = values[0][0]
    steps = queries.funnel(dimension=dimension, value=value, cohort=cohort)
    chart = bars([(s.label, s.entered, f"{s.entered:,}") for s in steps])
    return render(
        request,
        "reports/funnel.html",
        {
            "errors": errors,
            "dimension": dimension,
            "dimensions": queries.FUNNEL_DIMENSIONS.items(),
            "value": value,
            "values": values,
            "cohort": cohort,
            "cohorts": queries.funnel_cohorts(),
            "steps": steps,
            "chart": chart,
        },
    )


@login_required
def feedback(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    period, _, errors = _filters(request)
    by = request.GET.get("by") or "source"
    if by not in ("source", "campaign"):
        errors["by"] = "use source or campaign"
        by = "source"
    return render(
        request,
        "reports/feedback.html",
        {
            **_filter_context(period, "", errors),
            "by": by,
            "by_param": [("by", by)],
            "quality": queries.lead_quality(period=period, by=by),
            "drift": queries.customer_mix_drift(period=period),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def targets(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    errors = {}
    if request.method == "POST":
        require_perm(request.user, Perm.MANAGE_KPI_TARGETS)
        month = None
        if request.POST.get("month"):
            try:
                month = queries.parse_month(request.POST["month"])
            except (ValueError, TypeError):
                errors["month"] = "give a month as YYYY-MM"
        if not errors:
            try:
                target = kpi_target_set(
                    kpi=request.POST.get("kpi", ""),
                    value=request.POST.get("value", ""),
                    segment=request.POST.get("segment", ""),
                    month=month,
                    actor=request.user,
                )
            except ValidationFailed as failed:
                errors = failed.errors
            else:
                messages.success(request, f"Target for {Kpi(target.kpi).label} saved.")
                return redirect("reports:targets")
    return render(
        request,
        "reports/targets.html",
        {
            "targets": KpiTarget.objects.select_related("set_by"),
            "kpis": Kpi.choices,
            "segments": Segment.choices,
            "errors": errors,
            "form": request.POST if request.method == "POST" else {},
            "can_manage": has_perm(request.user, Perm.MANAGE_KPI_TARGETS),
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def refresh(request):
    require_perm(request.user, Perm.MANAGE_KPI_TARGETS)
    run = snapshots_refresh()
    took = (run.finished_at - run.started_at).total_seconds()
    messages.success(request, f"Report snapshots refreshed in {took:.1f} s.")
    return redirect("reports:dashboard")


@login_required
def digests(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    page = Paginator(Digest.objects.defer("html", "text"), settings.ACCORD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/digests.html", {"page": page})


@login_required
def digest_detail(request, month: str):
    require_perm(request.user, Perm.VIEW_REPORTS)
    try:
        first = queries.parse_month(month)
    except (ValueError, TypeError):
        raise Http404("No such month.") from None
    digest = Digest.objects.filter(month=first).first()
    if digest is None:
        raise Http404("No digest for that month.")
    if request.GET.get("format") == "text":
        return HttpResponse(digest.text, content_type="text/plain; charset=utf-8")
    return render(request, "reports/digest_detail.html", {"digest": digest})
