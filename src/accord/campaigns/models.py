from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.models import Team


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    SOCIAL = "social", "Social"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event"
    CONTENT = "content", "Content"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    SALES = "sales", "Sales outreach"
    DIRECT = "direct", "Direct"
    OTHER = "other", "Other"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=32, choices=Channel.choices, default=Channel.OTHER, db_index=True)
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED)
    # UTM values are stored lower-cased so a landing URL resolves to its campaign exactly.
    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=100, blank=True, default="")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    actual_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    goal = models.CharField(max_length=300, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["utm_campaign"], condition=~Q(utm_campaign=""), name="campaign_utm_campaign_unique"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TouchpointKind(models.TextChoices):
    FORM_SUBMISSION = "form_submission", "Form submission"
    PAGE_VISIT = "page_visit", "Page visit"
    AD_CLICK = "ad_click", "Ad click"
    EMAIL_SENT = "email_sent", "Email sent"
    EMAIL_OPENED = "email_opened", "Email opened"
    EMAIL_CLICKED = "email_clicked", "Email clicked"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    SALES_EMAIL = "sales_email", "Sales email"
    OFFER = "offer", "Offer"
    NOTE = "note", "Note"
    IMPORT = "import", "Import"


class Touchpoint(models.Model):
    """Append-only log of every interaction with a contact, by either team."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="touchpoints")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints")
    kind = models.CharField(max_length=24, choices=TouchpointKind.choices)
    channel = models.CharField(max_length=32, choices=Channel.choices, blank=True, default="")
    team = models.CharField(max_length=16, choices=Team.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    occurred_at = models.DateTimeField()
    url = models.CharField(max_length=2000, blank=True, default="")
    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=100, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Present on imported touchpoints: the same row imported again is recognised, not repeated.
    dedupe_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="touchpoint_dedupe_key_once"),
        ]
        indexes = [
            models.Index(fields=["contact", "-occurred_at"], name="touchpoint_contact_time"),
            models.Index(fields=["campaign", "occurred_at"], name="touchpoint_campaign_time"),
            models.Index(fields=["occurred_at"], name="touchpoint_time"),
            models.Index(fields=["kind", "occurred_at"], name="touchpoint_kind_time"),
            models.Index(fields=["team", "occurred_at"], name="touchpoint_team_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"
