"""Reads of the reports app. Panels read snapshot tables; drill-downs read the record itself."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.http import urlencode

from accord.campaigns.models import Campaign, Channel
from accord.core.clock import now as clock_now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, Opportunity, OpportunityStage, StageChange
from accord.reports.attribution import MODEL_LABELS, MODELS
from accord.reports.data import reporting_currency
from accord.reports.models import (
    AttributionSnapshot,
    FunnelSnapshot,
    Kpi,
    KpiSnapshot,
    KpiTarget,
    LeadQualitySnapshot,
    RefreshRun,
    RejectionReasonSnapshot,
    Segment,
)
from accord.reports.providers import kpi_provider
from accord.reports.segments import opportunity_segment_q, segment_q
from accord.reports.services import (
    METRICS,
    RATE_KPIS,
    add_months,
    campaign_costs_by_month,
    index_from_month,
    month_bounds,
    month_start,
)

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_3_months": "Last 3 months",
    "last_6_months": "Last 6 months",
    "last_12_months": "Last 12 months",
    "this_year": "This year",
    "custom": "Custom",
}
TREND_MONTHS = 12
ADDITIVE_KPIS = frozenset({Kpi.MQLS, Kpi.SOURCED_PIPELINE, Kpi.SOURCED_REVENUE})
LOWER_IS_BETTER = frozenset({Kpi.COST_PER_OPPORTUNITY})
# The dashboard's six cards; pipeline and revenue share one.
CARDS = (
    Kpi.MQLS,
    Kpi.ACCEPTANCE_RATE,
    Kpi.SLA_COMPLIANCE,
    Kpi.SOURCED_PIPELINE,
    Kpi.COST_PER_OPPORTUNITY,
    Kpi.WIN_RATE,
)


# -- filters ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    first: date  # first day of the first month
    last: date  # first day of the last month
    key: str = "custom"

    @property
    def months(self) -> int:
        return index_from_month(self.last) - index_from_month(self.first) + 1

    def bounds(self):
        return month_bounds(self.first, self.last)

    def previous(self) -> "Period":
        return Period(add_months(self.first, -self.months), add_months(self.first, -1))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%B %Y}"
        return f"{self.first:%b %Y} – {self.last:%b %Y}"

    def as_params(self) -> dict[str, str]:
        if self.key != "custom":
            return {"period": self.key}
        return {"period": "custom", "from": f"{self.first:%Y-%m}", "to": f"{self.last:%Y-%m}"}


def parse_month(raw: str) -> date:
    """A month given as YYYY-MM, as its first day (ValueError otherwise)."""
    year, month = raw.split("-")
    return date(int(year), int(month), 1)


def period_from_params(params: Mapping[str, str], *, today: date | None = None) -> Period:
    """Read ``period`` (and ``from``/``to`` as YYYY-MM for custom); errors name the field."""
    today = today or clock_now().date()
    current = month_start(today)
    key = (params.get("period") or "this_month").strip()
    if key not in PERIODS:
        raise ValidationFailed.single("period", f"use one of {', '.join(PERIODS)}")
    if key == "this_month":
        return Period(current, current, key)
    if key == "last_month":
        last = add_months(current, -1)
        return Period(last, last, key)
    if key in ("last_3_months", "last_6_months", "last_12_months"):
        span = int(key.split("_")[1])
        return Period(add_months(current, -(span - 1)), current, key)
    if key == "this_year":
        return Period(date(current.year, 1, 1), current, key)
    errors = {}
    months = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        try:
            months[name] = parse_month(raw)
        except (ValueError, TypeError):
            errors[name] = "give a month as YYYY-MM"
    if not errors and months["to"] < months["from"]:
        errors["to"] = "must not be before the start month"
    if not errors and index_from_month(months["to"]) - index_from_month(months["from"]) >= 120:
        errors["to"] = "a period may span at most 120 months"
    if errors:
        raise ValidationFailed(errors)
    return Period(months["from"], months["to"], "custom")


def segment_from_params(params: Mapping[str, str]) -> str:
    segment = (params.get("segment") or "").strip()
    if segment and segment not in Segment.values:
        raise ValidationFailed.single("segment", f"use one of {', '.join(Segment.values)}")
    return segment


def model_from_params(params: Mapping[str, str]) -> str:
    model = (params.get("model") or "linear").strip()
    if model not in MODELS:
        raise ValidationFailed.single("model", f"use one of {', '.join(MODELS)}")
    return model


# -- KPI values ---------------------------------------------------------------------------
def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


_SUM_FIELDS = (
    "mqls",
    "mqls_accepted",
    "sla_met",
    "sla_total",
    "opportunities",
    "sourced_opportunities",
    "sourced_pipeline",
    "sourced_revenue",
    "won",
    "lost",
    "cost",
    "other_currency_opportunities",
)


def _sum_rows(rows) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in _SUM_FIELDS:
        values = [getattr(row, name) for row in rows]
        present = [v for v in values if v is not None]
        out[name] = sum(present) if present else None
    return out


def kpi_value(kpi: str, sums: Mapping[str, float | None]) -> float | None:
    if kpi == Kpi.MQLS:
        return sums.get("mqls") or 0
    if kpi == Kpi.ACCEPTANCE_RATE:
        return _ratio(sums.get("mqls_accepted"), sums.get("mqls"))
    if kpi == Kpi.SLA_COMPLIANCE:
        return _ratio(sums.get("sla_met"), sums.get("sla_total"))
    if kpi == Kpi.SOURCED_PIPELINE:
        return sums.get("sourced_pipeline") or 0.0
    if kpi == Kpi.SOURCED_REVENUE:
        return sums.get("sourced_revenue") or 0.0
    if kpi == Kpi.COST_PER_OPPORTUNITY:
        return _ratio(sums.get("cost"), sums.get("sourced_opportunities"))
    if kpi == Kpi.WIN_RATE:
        won, lost = sums.get("won") or 0, sums.get("lost") or 0
        return _ratio(won, won + lost)
    raise ValueError(kpi)


def format_kpi(kpi: str, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi in RATE_KPIS:
        return f"{value * 100:.1f} %"
    if kpi in (Kpi.SOURCED_PIPELINE, Kpi.SOURCED_REVENUE, Kpi.COST_PER_OPPORTUNITY):
        return format_money(value)
    return f"{value:,.0f}"


def format_money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{reporting_currency()} {value:,.0f}"


@dataclass
class KpiCard:
    kpi: str
    label: str
    value: float | None
    display: str
    target: float | None = None
    target_display: str = ""
    on_track: bool | None = None
    trend: list[tuple[date, float | None]] = field(default_factory=list)
    note: str = ""
    drill_url: str = ""
    secondary: "KpiCard | None" = None
    basis: str = ""  # numerator / denominator in words

    def as_json(self) -> dict:
        data = {
            "kpi": self.kpi,
            "label": self.label,
            "value": self.value,
            "display": self.display,
            "target": self.target,
            "on_track": self.on_track,
            "trend": [{"month": f"{m:%Y-%m}", "value": v} for m, v in self.trend],
            "note": self.note,
            "drill_url": self.drill_url,
            "basis": self.basis,
        }
        if self.secondary is not None:
            data["secondary"] = self.secondary.as_json()
        return data


def _targets(kpis, segment: str, period: Period) -> dict[str, float | None]:
    """The period's target per KPI: monthly targets summed for counts and money, averaged
    for rates; a month without its own target uses the default."""
    rows = KpiTarget.objects.filter(kpi__in=kpis, segment=segment).filter(
        Q(month__isnull=True) | Q(month__gte=period.first, month__lte=period.last)
    )
    by_kpi: dict[str, dict[date | None, float]] = defaultdict(dict)
    for row in rows:
        by_kpi[row.kpi][row.month] = float(row.value)
    out: dict[str, float | None] = {}
    months = [add_months(period.first, i) for i in range(period.months)]
    for kpi in kpis:
        known = by_kpi.get(kpi, {})
        per_month = [known.get(m, known.get(None)) for m in months]
        present = [v for v in per_month if v is not None]
        if not present:
            out[kpi] = None
        elif kpi in ADDITIVE_KPIS:
            out[kpi] = sum(present)
        else:
            out[kpi] = sum(present) / len(present)
    return out


def drill_url(kpi: str, period: Period, segment: str) -> str:
    params = {**period.as_params(), **({"segment": segment} if segment else {})}
    return f"{reverse('reports:kpi_records', args=[kpi])}?{urlencode(params)}"


def dashboard_kpis(*, period: Period, segment: str = "") -> list[KpiCard]:
    """The six cards for a period and segment, with a 12-month trend, from snapshots."""
    trend_first = min(period.first, add_months(period.last, -(TREND_MONTHS - 1)))
    rows = list(KpiSnapshot.objects.filter(segment=segment, month__gte=trend_first, month__lte=period.last))
    by_month = {row.month: row for row in rows}
    in_period = [row for row in rows if row.month >= period.first]
    sums = _sum_rows(in_period)
    targets = _targets(list(Kpi.values), segment, period)
    trend_months = [add_months(period.last, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    sla_available = kpi_provider(Kpi.SLA_COMPLIANCE) is not None or sums.get("sla_total") is not None

    def card(kpi: str) -> KpiCard:
        value = kpi_value(kpi, sums)
        target = targets.get(kpi)
        on_track = None
        if value is not None and target is not None:
            on_track = value <= target if kpi in LOWER_IS_BETTER else value >= target
        trend = []
        for month in trend_months:
            row = by_month.get(month)
            trend.append((month, kpi_value(kpi, _sum_rows([row])) if row else None))
        result = KpiCard(
            kpi=kpi,
            label=Kpi(kpi).label,
            value=value,
            display=format_kpi(kpi, value),
            target=target,
            target_display=format_kpi(kpi, target) if target is not None else "no target",
            on_track=on_track,
            trend=trend,
            drill_url=drill_url(kpi, period, segment),
        )
        return result

    cards = []
    for kpi in CARDS:
        item = card(kpi)
        if kpi == Kpi.MQLS:
            item.basis = "contacts that first became MQL in the period"
        elif kpi == Kpi.ACCEPTANCE_RATE:
            item.basis = f"{int(sums.get('mqls_accepted') or 0):,} of {int(sums.get('mqls') or 0):,} MQLs reached SQL"
            if not sums.get("mqls"):
                item.note = "no MQLs in this period"
        elif kpi == Kpi.SLA_COMPLIANCE:
            if not sla_available:
                item.display, item.value, item.note = "no SLA data", None, "no SLA data"
                item.trend = [(m, None) for m, _ in item.trend]
            else:
                total = int(sums.get("sla_total") or 0)
                item.basis = f"{int(sums.get('sla_met') or 0):,} of {total:,} handoffs answered in time"
                if not total:
                    item.note = "no handoffs due in this period"
        elif kpi == Kpi.SOURCED_PIPELINE:
            item.basis = f"{int(sums.get('sourced_opportunities') or 0):,} marketing-sourced opportunities"
            item.secondary = card(Kpi.SOURCED_REVENUE)
            item.secondary.basis = "won deals whose first touch was Marketing's"
            other = int(sums.get("other_currency_opportunities") or 0)
            if other:
                item.note = f"{other:,} opportunities in other currencies not included"
        elif kpi == Kpi.COST_PER_OPPORTUNITY:
            if segment:
                item.value, item.display = None, "—"
                item.note = "campaign cost is not split by segment"
                item.trend = [(m, None) for m, _ in item.trend]
            else:
                item.basis = f"{format_money(sums.get('cost'))} cost ÷ {int(sums.get('sourced_opportunities') or 0):,} marketing-sourced opportunities"
                if not sums.get("sourced_opportunities"):
                    item.note = "no marketing-sourced opportunities in this period"
        elif kpi == Kpi.WIN_RATE:
            won, lost = int(sums.get("won") or 0), int(sums.get("lost") or 0)
            item.basis = f"{won:,} won of {won + lost:,} closed"
            if not won + lost:
                item.note = "no deals closed in this period"
        cards.append(item)
    return cards


def latest_refresh() -> RefreshRun | None:
    return RefreshRun.objects.order_by("-started_at").first()


# -- drill-downs --------------------------------------------------------------------------
@dataclass
class Drilldown:
    kpi: str
    title: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: QuerySet
    note: str = ""
    external_url: str = ""


def _first_mql_contacts(period: Period, segment: str) -> QuerySet:
    start, end = period.bounds()
    earlier = StageChange.objects.filter(contact=OuterRef("pk"), to_stage=Stage.MQL, changed_at__lt=start)
    became = StageChange.objects.filter(
        contact=OuterRef("pk"), to_stage=Stage.MQL, changed_at__gte=start, changed_at__lt=end
    )
    qs = Contact.objects.filter(Exists(became)).exclude(Exists(earlier))
    if segment:
        qs = qs.filter(segment_q(segment, "account__"))
    return qs


def kpi_records(*, kpi: str, period: Period, segment: str = "") -> Drilldown:
    """The records behind one KPI number, as a queryset of dicts ready to list or export."""
    if kpi not in Kpi.values:
        raise ValidationFailed.single("kpi", f"use one of {', '.join(Kpi.values)}")
    start, end = period.bounds()
    contact_columns = [
        ("id", "Contact id"),
        ("email", "Email"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("account__name", "Account"),
        ("lifecycle_stage", "Stage now"),
        ("first_touch_channel", "Source"),
        ("first_touch_campaign__name", "First campaign"),
    ]
    opp_columns = [
        ("id", "Opportunity id"),
        ("name", "Name"),
        ("account__name", "Account"),
        ("primary_contact__email", "Primary contact"),
        ("amount", "Amount"),
        ("currency", "Currency"),
        ("stage", "Stage"),
        ("created_at", "Created"),
        ("closed_at", "Closed"),
    ]
    if kpi in (Kpi.MQLS, Kpi.ACCEPTANCE_RATE):
        accepted = StageChange.objects.filter(
            contact=OuterRef("pk"), to_stage__in=(Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)
        )
        qs = _first_mql_contacts(period, segment).annotate(reached_sql=Exists(accepted))
        columns = [*contact_columns, ("reached_sql", "Reached SQL")]
        return Drilldown(kpi, Kpi(kpi).label, columns, qs.order_by("-id").values(*[c for c, _ in columns]))
    if kpi == Kpi.SLA_COMPLIANCE:
        provider = kpi_provider(kpi)
        url = ""
        if provider is not None:
            contacts = Contact.objects.filter(segment_q(segment, "account__")) if segment else None
            result = provider(start=start, end=end, contacts=contacts)
            url = result.url if result is not None else ""
        return Drilldown(
            kpi,
            Kpi(kpi).label,
            [],
            Contact.objects.none().values(),
            note="" if provider else "no SLA data: handoffs are not being recorded yet",
            external_url=url,
        )
    opps = Opportunity.objects.all()
    if segment:
        opps = opps.filter(opportunity_segment_q(segment))
    sourced = Q(reports_sourcing__marketing_sourced=True)
    if kpi in (Kpi.SOURCED_PIPELINE, Kpi.COST_PER_OPPORTUNITY):
        qs = opps.filter(sourced, created_at__gte=start, created_at__lt=end)
        note = ""
        if kpi == Kpi.SOURCED_PIPELINE:
            note = f"Pipeline sums only opportunities in {reporting_currency()}."
        else:
            note = "Cost comes from campaign costs spread over each campaign's days; see the ROI page."
    elif kpi == Kpi.SOURCED_REVENUE:
        qs = opps.filter(sourced, stage=OpportunityStage.WON, closed_at__gte=start, closed_at__lt=end)
        note = f"Revenue sums only opportunities in {reporting_currency()}."
    else:  # win rate
        qs = opps.filter(
            stage__in=(OpportunityStage.WON, OpportunityStage.LOST), closed_at__gte=start, closed_at__lt=end
        )
        note = ""
    return Drilldown(
        kpi,
        Kpi(kpi).label,
        opp_columns,
        qs.select_related(None).order_by("-created_at", "-id").values(*[c for c, _ in opp_columns]),
        note=note,
    )


# -- ROI ----------------------------------------------------------------------------------
@dataclass
class RoiRow:
    key: str
    label: str
    channel: str
    campaign_id: int | None
    cost: float | None
    cost_note: str
    leads: float = 0.0
    mqls: float = 0.0
    opportunities: float = 0.0
    pipeline: float = 0.0
    revenue: float = 0.0

    @property
    def roi(self) -> float | None:
        return _ratio(None if self.cost is None else self.revenue - self.cost, self.cost or None)

    @property
    def cost_per_lead(self):
        return _ratio(self.cost, self.leads or None)

    @property
    def cost_per_mql(self):
        return _ratio(self.cost, self.mqls or None)

    @property
    def cost_per_opportunity(self):
        return _ratio(self.cost, self.opportunities or None)

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "channel": self.channel,
            "campaign_id": self.campaign_id,
            "cost": self.cost,
            "cost_note": self.cost_note,
            **{metric: getattr(self, metric) for metric in METRICS},
            "roi": self.roi,
            "cost_per_lead": self.cost_per_lead,
            "cost_per_mql": self.cost_per_mql,
            "cost_per_opportunity": self.cost_per_opportunity,
        }


@dataclass
class RoiTable:
    model: str
    period: Period
    campaigns: list[RoiRow]
    channels: list[RoiRow]
    totals: RoiRow
    counts: dict[str, int]


def _channel_label(channel: str) -> str:
    try:
        return Channel(channel).label
    except ValueError:
        return channel or "—"


def roi_table(*, model: str, period: Period) -> RoiTable:
    """Cost, attributed results, ROI and cost per result per campaign and channel."""
    if model not in MODELS:
        raise ValidationFailed.single("model", f"use one of {', '.join(MODELS)}")
    credit = (
        AttributionSnapshot.objects.filter(model=model, month__gte=period.first, month__lte=period.last)
        .values("campaign_id", "channel")
        .annotate(**{metric: Sum(metric) for metric in METRICS})
        .order_by()
    )
    costs, counts = campaign_costs_by_month(today=clock_now().date())
    first, last = index_from_month(period.first), index_from_month(period.last)
    campaigns = {c.id: c for c in Campaign.objects.only("id", "name", "channel", "actual_cost", "currency")}
    currency = reporting_currency()

    rows: dict[str, RoiRow] = {}
    for campaign in campaigns.values():
        if campaign.actual_cost is None:
            cost, note = None, "no cost recorded"
        elif campaign.currency != currency:
            cost, note = None, f"cost in {campaign.currency}, not converted"
        else:
            spread = costs.get(campaign.id, {})
            cost, note = sum(v for m, v in spread.items() if first <= m <= last), ""
        rows[f"c{campaign.id}"] = RoiRow(
            f"c{campaign.id}", campaign.name, campaign.channel, campaign.id, cost, note
        )
    for item in credit:
        if item["campaign_id"] is not None:
            key = f"c{item['campaign_id']}"
        elif item["channel"]:
            key = f"ch-{item['channel']}"
            rows.setdefault(
                key,
                RoiRow(key, f"No campaign · {_channel_label(item['channel'])}", item["channel"], None, None, "no campaign"),
            )
        else:
            key = "none"
            rows.setdefault(key, RoiRow(key, "No touchpoints before the conversion", "", None, None, "nothing to credit"))
        row = rows.get(key)
        if row is None:
            continue
        for metric in METRICS:
            setattr(row, metric, getattr(row, metric) + (item[metric] or 0.0))

    campaign_rows = sorted(rows.values(), key=lambda r: (-(r.revenue or 0), -(r.pipeline or 0), r.label))
    by_channel: dict[str, RoiRow] = {}
    for row in campaign_rows:
        channel = row.channel or ""
        agg = by_channel.setdefault(
            channel,
            RoiRow(f"channel-{channel}", _channel_label(channel) if channel else "No touchpoints", channel, None, None, ""),
        )
        if row.cost is not None:
            agg.cost = (agg.cost or 0.0) + row.cost
        for metric in METRICS:
            setattr(agg, metric, getattr(agg, metric) + getattr(row, metric))
    totals = RoiRow("total", "Total", "", None, None, "")
    for row in campaign_rows:
        if row.cost is not None:
            totals.cost = (totals.cost or 0.0) + row.cost
        for metric in METRICS:
            setattr(totals, metric, getattr(totals, metric) + getattr(row, metric))
    run = latest_refresh()
    all_counts = {**(run.counts if run else {}), **counts}
    channel_rows = sorted(by_channel.values(), key=lambda r: (-(r.revenue or 0), r.label))
    return RoiTable(model, period, campaign_rows, channel_rows, totals, all_counts)


def models_side_by_side(*, period: Period, metric: str = "revenue") -> tuple[list[str], list[dict]]:
    """Per campaign (or channel without campaign): the chosen metric under every model."""
    if metric not in METRICS:
        raise ValidationFailed.single("metric", f"use one of {', '.join(METRICS)}")
    credit = (
        AttributionSnapshot.objects.filter(month__gte=period.first, month__lte=period.last)
        .values("model", "campaign_id", "channel")
        .annotate(total=Sum(metric))
        .order_by()
    )
    names = dict(Campaign.objects.values_list("id", "name"))
    rows: dict[str, dict] = {}
    for item in credit:
        if item["campaign_id"] is not None:
            key, label = f"c{item['campaign_id']}", names.get(item["campaign_id"], f"Campaign {item['campaign_id']}")
        elif item["channel"]:
            key, label = f"ch-{item['channel']}", f"No campaign · {_channel_label(item['channel'])}"
        else:
            key, label = "none", "No touchpoints before the conversion"
        row = rows.setdefault(key, {"key": key, "label": label, **{model: 0.0 for model in MODELS}})
        row[item["model"]] += item["total"] or 0.0
    ordered = sorted(rows.values(), key=lambda r: (-r["linear"], r["label"]))
    return list(MODELS), ordered


def markov_effects(*, metric: str = "revenue") -> list[dict]:
    """The removal effects found by the last refresh, largest first, with readable labels."""
    run = latest_refresh()
    found = (run.markov.get("metrics", {}).get(metric) if run else None) or {}
    effects = sorted(found.get("removal_effects", []), key=lambda e: -e["effect"])
    names = dict(Campaign.objects.filter(id__in=[e["campaign"] for e in effects if e["campaign"]]).values_list("id", "name"))
    return [
        {**effect, "label": names.get(effect["campaign"]) or f"No campaign · {_channel_label(effect['channel'])}"}
        for effect in effects
    ]


# -- funnel -------------------------------------------------------------------------------
FUNNEL_DIMENSIONS = {"all": "Everyone", "source": "Source", "campaign": "First campaign", "segment": "Segment"}


@dataclass
class FunnelStep:
    stage: str
    label: str
    entered: int
    advanced: int
    median_hours: float | None

    @property
    def conversion(self) -> float | None:
        return _ratio(self.advanced, self.entered)


def funnel(*, dimension: str = "all", value: str = "", cohort: date | None = None) -> list[FunnelStep]:
    """Stage-to-stage conversion and median time in stage, from the funnel snapshot."""
    from accord.reports.services import FUNNEL_STAGES

    if dimension not in FUNNEL_DIMENSIONS:
        raise ValidationFailed.single("dimension", f"use one of {', '.join(FUNNEL_DIMENSIONS)}")
    rows = {
        row.stage: row
        for row in FunnelSnapshot.objects.filter(
            dimension=dimension, value="" if dimension == "all" else value, cohort_month=cohort
        )
    }
    steps = []
    for stage in FUNNEL_STAGES:
        row = rows.get(stage)
        steps.append(
            FunnelStep(
                stage=stage,
                label=Stage(stage).label,
                entered=row.entered if row else 0,
                advanced=row.advanced if row else 0,
                median_hours=row.median_hours if row else None,
            )
        )
    return steps


def funnel_values(dimension: str) -> list[tuple[str, str]]:
    if dimension == "all":
        return []
    values = sorted(
        set(FunnelSnapshot.objects.filter(dimension=dimension, cohort_month=None).values_list("value", flat=True))
    )
    if dimension == "campaign":
        names = dict(Campaign.objects.filter(id__in=[int(v) for v in values if v.isdigit()]).values_list("id", "name"))
        return [(v, names.get(int(v), f"Campaign {v}") if v.isdigit() else "No campaign") for v in values]
    if dimension == "source":
        return [(v, _channel_label(v) if v != "unknown" else "Unknown") for v in values]
    return [(v, Segment(v).label if v in Segment.values else v) for v in values]


def funnel_cohorts() -> list[date]:
    return sorted(
        FunnelSnapshot.objects.filter(dimension="all", cohort_month__isnull=False)
        .values_list("cohort_month", flat=True)
        .distinct(),
        reverse=True,
    )


# -- feedback -----------------------------------------------------------------------------
def lead_quality(*, period: Period, by: str = "source") -> dict:
    """For the period's new MQLs, by source or first campaign: how many Sales accepted
    (reached SAL or further), rejected (with the reasons) and how many became opportunities.
    Read from the lead-quality snapshot."""
    if by not in ("source", "campaign"):
        raise ValidationFailed.single("by", "use source or campaign")
    window = {"by": by, "month__gte": period.first, "month__lte": period.last}
    totals = (
        LeadQualitySnapshot.objects.filter(**window)
        .values("key")
        .annotate(mqls=Sum("mqls"), accepted=Sum("accepted"), rejected=Sum("rejected"), converted=Sum("converted"))
    )
    reason_counts: dict[str, Counter] = defaultdict(Counter)
    all_reasons: Counter = Counter()
    for key, reason, count in (
        RejectionReasonSnapshot.objects.filter(**window).values("key", "reason").annotate(total=Sum("count"))
        .values_list("key", "reason", "total")
    ):
        reason_counts[key][reason] += count
        all_reasons[reason] += count
    names = {}
    if by == "campaign":
        ids = [int(row["key"]) for row in totals if row["key"].isdigit()]
        names = {str(k): v for k, v in Campaign.objects.filter(id__in=ids).values_list("id", "name")}
    out_rows = []
    for row in totals:
        key = row["key"]
        if by == "source":
            label = _channel_label(key) if key else "Unknown source"
        else:
            label = names.get(key, "No campaign") if key else "No campaign"
        out_rows.append(
            {
                "key": key,
                "label": label,
                "mqls": row["mqls"],
                "accepted": row["accepted"],
                "rejected": row["rejected"],
                "converted": row["converted"],
                "acceptance_rate": _ratio(row["accepted"], row["mqls"]),
                "rejection_rate": _ratio(row["rejected"], row["mqls"]),
                "conversion_rate": _ratio(row["converted"], row["mqls"]),
                "top_reasons": reason_counts[key].most_common(3),
            }
        )
    out_rows.sort(key=lambda r: (-r["mqls"], r["label"]))
    return {"by": by, "rows": out_rows, "reasons": all_reasons.most_common(10)}


DRIFT_THRESHOLD = 0.2  # total variation distance above which a shift is flagged
DRIFT_MIN_SAMPLE = 5  # fewer won customers than this in either period: not judged


TITLE_FUNCTIONS = (
    ("executive", ("ceo", "cto", "cfo", "coo", "cmo", "chief", "founder", "owner", "president")),
    ("marketing", ("marketing", "growth", "brand", "demand")),
    ("sales", ("sales", "account executive", "business development", "revenue")),
    ("engineering", ("engineer", "developer", "cto", "architect", "devops", "it ", "technology")),
    ("finance", ("finance", "controller", "accountant", "cfo")),
    ("operations", ("operations", "ops", "procurement", "supply")),
)


def title_function(title: str) -> str:
    lowered = f" {title.lower()} "
    if not title.strip():
        return "unknown"
    for function, words in TITLE_FUNCTIONS:
        if any(word in lowered for word in words):
            return function
    return "other"


def _distribution(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()} if total else {}


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def chi_square(observed: Counter, expected_shares: Mapping[str, float]) -> float | None:
    """Pearson's statistic of observed counts against expected shares (None if undefined)."""
    n = sum(observed.values())
    if not n:
        return None
    stat = 0.0
    for key in set(observed) | set(expected_shares):
        expected = n * expected_shares.get(key, 0.0)
        if expected <= 0:
            if observed.get(key, 0):
                return math.inf
            continue
        stat += (observed.get(key, 0) - expected) ** 2 / expected
    return stat


def _won_customers(period: Period) -> list[tuple[str, str, str]]:
    from accord.reports.segments import segment_of

    start, end = period.bounds()
    rows = Opportunity.objects.filter(
        stage=OpportunityStage.WON, closed_at__gte=start, closed_at__lt=end
    ).values_list("account__industry", "account__employee_count", "primary_contact__job_title")
    return [
        ((industry or "unknown").strip().lower() or "unknown", segment_of(employees), title_function(title or ""))
        for industry, employees, title in rows
    ]


def customer_mix_drift(*, period: Period, icp: Mapping[str, Mapping[str, float]] | None = None) -> dict:
    """How won customers' industry, size and job functions shift against the previous period
    of equal length and against the ideal customer profile; large shifts are flagged."""
    from accord.reports.providers import icp_profile

    icp = icp if icp is not None else icp_profile()
    current = _won_customers(period)
    previous = _won_customers(period.previous())
    dimensions = []
    for position, (name, label) in enumerate((("industry", "Industry"), ("size", "Company size"), ("title", "Job function"))):
        now_values = [row[position] for row in current]
        before_values = [row[position] for row in previous]
        p_now, p_before = _distribution(now_values), _distribution(before_values)
        enough = len(now_values) >= DRIFT_MIN_SAMPLE
        vs_previous = total_variation(p_now, p_before) if enough and len(before_values) >= DRIFT_MIN_SAMPLE else None
        expected = dict((icp or {}).get(name, {}))
        vs_icp = total_variation(p_now, expected) if enough and expected else None
        chi = chi_square(Counter(now_values), expected) if enough and expected else None
        shares = sorted(set(p_now) | set(p_before) | set(expected))
        dimensions.append(
            {
                "dimension": name,
                "label": label,
                "current_count": len(now_values),
                "previous_count": len(before_values),
                "shares": [
                    {"value": v, "current": p_now.get(v, 0.0), "previous": p_before.get(v, 0.0), "icp": expected.get(v)}
                    for v in shares
                ],
                "vs_previous": vs_previous,
                "vs_icp": vs_icp,
                "chi_square_vs_icp": chi,
                "flag_previous": vs_previous is not None and vs_previous >= DRIFT_THRESHOLD,
                "flag_icp": vs_icp is not None and vs_icp >= DRIFT_THRESHOLD,
            }
        )
    warnings = []
    for d in dimensions:
        if d["flag_previous"]:
            warnings.append(f"{d['label']} of won customers shifted {d['vs_previous'] * 100:.0f} % against the previous period")
        if d["flag_icp"]:
            warnings.append(f"{d['label']} of won customers is {d['vs_icp'] * 100:.0f} % away from the ideal customer profile")
    return {
        "period": period,
        "threshold": DRIFT_THRESHOLD,
        "min_sample": DRIFT_MIN_SAMPLE,
        "icp_defined": bool(icp),
        "dimensions": dimensions,
        "warnings": warnings,
        "won_customers": len(current),
    }
