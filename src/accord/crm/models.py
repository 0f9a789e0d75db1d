from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accord.crm.lifecycle import Stage


class Account(models.Model):
    """A company that both teams work with."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="", db_index=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, default="", db_index=True)
    website = models.CharField(max_length=300, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts"
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"),
        ]
        indexes = [
            models.Index(Lower("name"), name="account_name_lower"),
        ]

    def __str__(self) -> str:
        return self.name


class Seniority(models.TextChoices):
    UNKNOWN = "", "Unknown"
    ENTRY = "entry", "Entry"
    SENIOR = "senior", "Senior"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    VP = "vp", "VP"
    C_LEVEL = "c_level", "C-level"
    OWNER = "owner", "Owner"


class Contact(models.Model):
    """A person at every stage of their life with us. There is no separate Lead table."""

    email = models.CharField(max_length=254, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    job_title = models.CharField(max_length=200, blank=True, default="")
    seniority = models.CharField(max_length=16, choices=Seniority.choices, blank=True, default="")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_contacts"
    )
    lifecycle_stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.LEAD)
    stage_changed_at = models.DateTimeField(null=True, blank=True)

    street = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    postcode = models.CharField(max_length=20, blank=True, default="")
    state = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True, default="")

    # Kept by the scoring model; the breakdown that explains it lives with the model.
    score = models.IntegerField(default=0)
    grade = models.CharField(max_length=1, blank=True, default="")

    do_not_contact = models.BooleanField(default=False)

    first_touch_campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="first_touch_contacts"
    )
    first_touch_channel = models.CharField(max_length=32, blank=True, default="")
    first_touch_at = models.DateTimeField(null=True, blank=True)
    latest_touch_campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="latest_touch_contacts"
    )
    latest_touch_channel = models.CharField(max_length=32, blank=True, default="")
    latest_touch_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="contact_email_unique"),
        ]
        indexes = [
            models.Index(fields=["lifecycle_stage", "-created_at"], name="contact_stage_created"),
            models.Index(fields=["owner", "-created_at"], name="contact_owner_created"),
            models.Index(fields=["-created_at", "-id"], name="contact_created"),
            models.Index(fields=["-score"], name="contact_score"),
            models.Index(fields=["phone"], name="contact_phone"),
            models.Index(fields=["external_id"], name="contact_external_id"),
            models.Index(Lower("last_name"), name="contact_last_name_lower"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactInterest(models.Model):
    """A tag Sales learns about what a customer cares about ("SSO", "pricing", "fintech")."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="interests")
    name = models.CharField(max_length=60)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["contact", "name"], name="contact_interest_once")]
        indexes = [models.Index(fields=["name"], name="interest_name")]


class StageChange(models.Model):
    """One lifecycle move: who, when, from, to, why. Written by every move, never edited."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        CAPTURE = "capture", "Capture"
        IMPORT = "import", "Import"
        SCORING = "scoring", "Scoring"
        HANDOFF = "handoff", "Handoff"
        OPPORTUNITY = "opportunity", "Opportunity"
        SYSTEM = "system", "System"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True, default="")
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    changed_at = models.DateTimeField()
    reason = models.TextField(blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-changed_at"], name="stagechange_contact"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_stage"),
        ]


class OpportunityStage(models.TextChoices):
    PROSPECTING = "prospecting", "Prospecting"
    QUALIFICATION = "qualification", "Qualification"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    WON = "won", "Closed won"
    LOST = "lost", "Closed lost"


OPEN_OPPORTUNITY_STAGES = (
    OpportunityStage.PROSPECTING,
    OpportunityStage.QUALIFICATION,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATION,
)


class Opportunity(models.Model):
    name = models.CharField(max_length=200)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities")
    primary_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    stage = models.CharField(max_length=16, choices=OpportunityStage.choices, default=OpportunityStage.PROSPECTING)
    close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["stage", "close_date"], name="opportunity_stage_close"),
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage"),
            models.Index(fields=["closed_at"], name="opportunity_closed_at"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.stage in (OpportunityStage.WON, OpportunityStage.LOST)
