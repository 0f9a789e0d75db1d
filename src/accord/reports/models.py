"""Reports keep targets, digests and snapshot tables; every other number is read from the
record. Snapshots are rebuilt whole by ``snapshots_refresh`` (worker job ``reports.refresh``,
command ``accord reports refresh``) so the dashboard reads a few hundred rows, never millions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kpi(models.TextChoices):
    MQLS = "mqls", "MQLs"
    ACCEPTANCE_RATE = "acceptance_rate", "MQL → SQL acceptance rate"
    SLA_COMPLIANCE = "sla_compliance", "SLA compliance"
    SOURCED_PIPELINE = "sourced_pipeline", "Marketing-sourced pipeline"
    SOURCED_REVENUE = "sourced_revenue", "Marketing-sourced revenue"
    COST_PER_OPPORTUNITY = "cost_per_opportunity", "Cost per opportunity"
    WIN_RATE = "win_rate", "Win rate"


class Segment(models.TextChoices):
    """Company-size bands of the contact's (or the deal's) account."""

    SMB = "smb", "Small business (1–49)"
    MIDMARKET = "midmarket", "Mid-market (50–999)"
    ENTERPRISE = "enterprise", "Enterprise (1000+)"
    UNKNOWN = "unknown", "Size unknown"


class KpiTarget(models.Model):
    """A target both teams agreed on. ``month`` empty: the default for every month."""

    kpi = models.CharField(max_length=32, choices=Kpi.choices)
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True, default="")
    month = models.DateField(null=True, blank=True)
    value = models.DecimalField(max_digits=16, decimal_places=4)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kpi", "segment", "month"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "segment", "month"], name="kpi_target_once_per_month"),
            models.UniqueConstraint(
                fields=["kpi", "segment"], condition=Q(month__isnull=True), name="kpi_target_one_default"
            ),
        ]


class KpiSnapshot(models.Model):
    """The dashboard's counts for one month and segment ("" = every segment)."""

    month = models.DateField()
    segment = models.CharField(max_length=16, blank=True, default="")
    mqls = models.PositiveIntegerField(default=0)
    mqls_accepted = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(null=True)
    sla_total = models.PositiveIntegerField(null=True)
    opportunities = models.PositiveIntegerField(default=0)
    sourced_opportunities = models.PositiveIntegerField(default=0)
    sourced_pipeline = models.FloatField(default=0)
    sourced_revenue = models.FloatField(default=0)
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    # Campaign cost spread over the campaign's days; null for a segment (cost is not split).
    cost = models.FloatField(null=True)
    other_currency_opportunities = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["month", "segment"]
        constraints = [models.UniqueConstraint(fields=["month", "segment"], name="kpi_snapshot_once")]


class AttributionSnapshot(models.Model):
    """Credit one model gave one campaign (or channel, for touches without a campaign) in one
    month. Neither campaign nor channel: conversions that had no touchpoint at all."""

    model = models.CharField(max_length=20)
    month = models.DateField()
    campaign = models.ForeignKey("campaigns.Campaign", null=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=32, blank=True, default="")
    leads = models.FloatField(default=0)
    mqls = models.FloatField(default=0)
    opportunities = models.FloatField(default=0)
    pipeline = models.FloatField(default=0)
    revenue = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["model", "month"], name="attribution_model_month"),
            models.Index(fields=["month"], name="attribution_month"),
        ]


class OpportunitySourcing(models.Model):
    """Per opportunity, what the refresh found on its path: so drill-downs list exactly the
    records the dashboard counted."""

    opportunity = models.OneToOneField("crm.Opportunity", on_delete=models.CASCADE, related_name="reports_sourcing")
    marketing_sourced = models.BooleanField(default=False)
    touches = models.PositiveIntegerField(default=0)
    first_campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["marketing_sourced"], name="opp_sourcing_sourced")]


class FunnelSnapshot(models.Model):
    """Contacts that entered ``stage`` (in ``cohort_month``; null = every cohort), how many went
    on to a later stage, and the median time they spent in ``stage``."""

    dimension = models.CharField(max_length=16)  # all, source, campaign, segment
    value = models.CharField(max_length=64, blank=True, default="")
    cohort_month = models.DateField(null=True)
    stage = models.CharField(max_length=16)
    entered = models.PositiveIntegerField(default=0)
    advanced = models.PositiveIntegerField(default=0)
    median_hours = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["dimension", "value", "cohort_month"], name="funnel_lookup")]


class LeadQualitySnapshot(models.Model):
    """Contacts that first became MQL in ``month``, by source or first campaign, and what
    Sales made of them (ever since)."""

    month = models.DateField()
    by = models.CharField(max_length=16)  # source, campaign
    key = models.CharField(max_length=64, blank=True, default="")  # channel, or campaign id; "" unknown
    mqls = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["by", "month"], name="lead_quality_by_month")]


class RejectionReasonSnapshot(models.Model):
    """Why Sales sent those MQLs back (recycled or disqualified from MQL or SAL)."""

    month = models.DateField()
    by = models.CharField(max_length=16)
    key = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["by", "month"], name="rejection_by_month")]


class RefreshRun(models.Model):
    """One snapshot refresh: when, how long, and the records that lacked data."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    counts = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)
    markov = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"


class Digest(models.Model):
    """The monthly digest, kept so the web app shows exactly what was emailed."""

    month = models.DateField(unique=True)
    subject = models.CharField(max_length=200)
    html = models.TextField()
    text = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
