"""Coordinated outreach: consent, one contact policy for both teams, segments and sends.

The contact's current do-not-contact flag lives on ``crm.Contact.do_not_contact`` (every
reader needs it); the reason and its history live here, one row per change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.models import Team


class SubscriptionTopic(models.Model):
    """What a marketing email is about ("Product news", "Events"); people opt out per topic."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactSubscription(models.Model):
    """A contact's opt-out from one topic. No row means subscribed (the contact did not opt out)."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="topic_opt_outs")
    topic = models.ForeignKey(SubscriptionTopic, on_delete=models.CASCADE, related_name="opt_outs")
    unsubscribed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "topic"], name="opt_out_once_per_topic")]


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed from everything"
    BOUNCED = "bounced", "Email bounced"
    COMPLAINED = "complained", "Complained (marked as spam)"
    MANUAL = "manual", "Set by a user"
    ERASED = "erased", "Erased on request"


class ConsentEvent(models.Model):
    """History of a contact's consent: every suppression, lift and topic opt-out or opt-in."""

    class Action(models.TextChoices):
        SUPPRESSED = "suppressed", "Do not contact"
        LIFTED = "lifted", "Contact allowed again"
        TOPIC_OPT_OUT = "topic_opt_out", "Unsubscribed from topic"
        TOPIC_OPT_IN = "topic_opt_in", "Subscribed to topic"

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="consent_events")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices, blank=True, default="")
    topic = models.ForeignKey(SubscriptionTopic, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["contact", "-at"], name="consent_contact_time")]


class ContactPolicy(models.Model):
    """How often a customer may hear from us, counting both teams. One row is in force."""

    name = models.CharField(max_length=100, default="Contact policy")
    max_promotions = models.PositiveSmallIntegerField(default=2)
    window_days = models.PositiveSmallIntegerField(default=7)
    # Sales' one-to-one emails and calls count toward the cap as well as marketing sends.
    count_sales_touches = models.BooleanField(default=True)
    quiet_days_after_meeting = models.PositiveSmallIntegerField(default=3)
    pause_during_sales_cycle = models.BooleanField(default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "contact policies"


class PromotionAllowance(models.Model):
    """The owner lets marketing promotions reach a lead that is in an active sales cycle."""

    contact = models.OneToOneField("crm.Contact", on_delete=models.CASCADE, related_name="promotion_allowance")
    allowed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    allowed_at = models.DateTimeField()


class Segment(models.Model):
    """A saved, dynamic list: the filters are stored, the members are computed when asked."""

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True, default="")
    definition = models.JSONField(default=dict)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    team = models.CharField(max_length=16, choices=Team.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailTemplate(models.Model):
    name = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SendStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    DONE = "done", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class EmailSend(models.Model):
    """One email campaign to one segment, delivered by the worker in batches."""

    name = models.CharField(max_length=200)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_sends"
    )
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="sends")
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="sends")
    topic = models.ForeignKey(SubscriptionTopic, null=True, blank=True, on_delete=models.PROTECT)
    promotional = models.BooleanField(default=True)
    tracking = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=SendStatus.choices, default=SendStatus.DRAFT)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="send_status_due")]

    def __str__(self) -> str:
        return self.name


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    HELD = "held", "Held by the contact policy"
    SUPPRESSED = "suppressed", "Suppressed"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"


class SendRecipient(models.Model):
    """One contact of one send: held, suppressed or delivered, with the reason shown."""

    send = models.ForeignKey(EmailSend, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="email_deliveries")
    status = models.CharField(max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED)
    reason = models.CharField(max_length=300, blank=True, default="")
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    message_id = models.CharField(max_length=200, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["send", "contact"], name="recipient_once_per_send")]
        indexes = [
            models.Index(fields=["status", "due_at"], name="recipient_status_due"),
            models.Index(fields=["send", "status"], name="recipient_send_status"),
            models.Index(fields=["contact", "status"], name="recipient_contact_status"),
        ]


class PlannedOutreach(models.Model):
    """Something one team plans to send or do to customers: a sales call series, a mailing."""

    title = models.CharField(max_length=200)
    team = models.CharField(max_length=16, choices=Team.choices)
    kind = models.CharField(max_length=24, default="email")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="planned_outreach")
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="planned_outreach")
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="planned_outreach_ends_after_start"),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(segment__isnull=False), name="planned_outreach_has_audience"
            ),
        ]
        indexes = [models.Index(fields=["starts_on", "ends_on"], name="planned_outreach_dates")]
