"""The service agreement between Marketing and Sales, routing, and the handoff of each lead."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.business_time import BusinessCalendar
from accord.core.models import Team


class WorkCalendar(models.Model):
    """Working days and hours in a time zone, minus holidays. Validated by core.business_time."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"0": [["09:00", "17:00"]], ...}: Monday is 0; several spans allow a lunch break.
    working_hours = models.JSONField(default=dict)
    # [{"start": "2026-12-24", "end": "2026-12-26", "name": "Christmas"}, ...]
    holidays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> BusinessCalendar:
        return BusinessCalendar.build(
            time_zone=self.time_zone, working_hours=self.working_hours, holidays=self.holidays
        )


class PolicyKind(models.TextChoices):
    RESPONSE = "response", "Sales response"
    COMMITMENT = "commitment", "Marketing commitment"


class Segment(models.TextChoices):
    """Company size bands, by the account's employee count."""

    SMB = "smb", "Small business (< 100)"
    MID_MARKET = "mid", "Mid-market (100–999)"
    ENTERPRISE = "enterprise", "Enterprise (1,000+)"


SEGMENT_BOUNDS = {Segment.SMB: (0, 99), Segment.MID_MARKET: (100, 999), Segment.ENTERPRISE: (1000, None)}


class SlaPolicy(models.Model):
    """One side's written promise.

    A response policy: leads meeting the criteria get a first response from ``team`` within
    ``target_hours`` business hours of ``calendar``. A commitment policy: Marketing delivers
    ``mql_volume_target`` MQLs meeting the criteria per period, at ``acceptance_rate_target``.
    """

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=PolicyKind.choices, default=PolicyKind.RESPONSE)
    is_active = models.BooleanField(default=True)
    # Lower first: the first active response policy whose criteria match a lead governs it.
    position = models.PositiveIntegerField(default=100)
    team = models.CharField(max_length=16, choices=Team.choices, default=Team.SALES)

    # Criteria: an empty list means "any".
    stages = models.JSONField(default=list, blank=True)
    grades = models.JSONField(default=list, blank=True)
    min_score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    sources = models.JSONField(default=list, blank=True)  # channels of the lead's first touch
    countries = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    industries = models.JSONField(default=list, blank=True)

    # The response side.
    calendar = models.ForeignKey(WorkCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies")
    target_hours = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    first_response_kinds = models.JSONField(default=list, blank=True)  # touchpoint kinds
    followup_attempts = models.PositiveSmallIntegerField(default=0)
    followup_days = models.PositiveSmallIntegerField(default=0)
    warn_at_percent = models.PositiveSmallIntegerField(default=75)
    notify_manager_on_breach = models.BooleanField(default=True)
    reassign_on_breach = models.BooleanField(default=False)

    # The commitment side.
    period = models.CharField(max_length=16, default="month")
    mql_volume_target = models.PositiveIntegerField(null=True, blank=True)
    acceptance_rate_target = models.PositiveSmallIntegerField(null=True, blank=True)  # percent

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "position", "id"]
        indexes = [models.Index(fields=["kind", "is_active", "position"], name="slapolicy_kind_position")]

    def __str__(self) -> str:
        return self.name


class RoutingKind(models.TextChoices):
    ACCOUNT_OWNER = "account_owner", "Account owner keeps the account's people"
    TERRITORY = "territory", "Territory (country or region)"
    SEGMENT = "segment", "Industry or segment"
    ROUND_ROBIN = "round_robin", "Round-robin in a team"


class RoutingRule(models.Model):
    """One step of routing, tried in ``position`` order; the first rule that finds a rep wins."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=RoutingKind.choices)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    countries = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)  # the contact's state or region, as written
    industries = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingMember(models.Model):
    """A rep in a rule's pool. ``assigned`` is the persistent weighted round-robin counter."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_memberships")
    weight = models.PositiveSmallIntegerField(default=1)
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rule", "user_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "user"], name="routing_member_once")]


class RepCapacity(models.Model):
    """How many open handoffs a rep may hold at once; reps without a row have no limit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handoff_capacity")
    max_open = models.PositiveIntegerField()


class HandoffStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled"


class RejectReason(models.TextChoices):
    BAD_FIT = "bad_fit", "Bad fit"
    NO_BUDGET = "no_budget", "No budget"
    WRONG_PERSON = "wrong_person", "Wrong person"
    DUPLICATE = "duplicate", "Duplicate"
    STUDENT_OR_COMPETITOR = "student_or_competitor", "Student or competitor"
    NOT_READY = "not_ready", "Not ready"


# Rejections that still have a future go back to nurturing; the rest are ruled out.
REJECT_RECYCLES = frozenset({RejectReason.NO_BUDGET, RejectReason.NOT_READY})


class Handoff(models.Model):
    """One qualified lead handed to Sales: who owns it, by when, and how it ended."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="handoffs")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    team = models.CharField(max_length=16, choices=Team.choices, default=Team.SALES)
    routing_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL)
    routing_reason = models.CharField(max_length=300, blank=True, default="")
    source = models.CharField(max_length=32, blank=True, default="")  # the lead's first-touch channel

    opened_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    followup_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reject_reason = models.CharField(max_length=32, choices=RejectReason.choices, blank=True, default="")
    note = models.TextField(blank=True, default="")
    recycle_reason = models.CharField(max_length=300, blank=True, default="")
    reentry_on = models.DateField(null=True, blank=True)
    # How many times this contact went back to nurturing before this handoff.
    loop = models.PositiveSmallIntegerField(default=0)

    # Timers, claimed by the sweep: the claim token marks which sweep sends the notice.
    warned_at = models.DateTimeField(null=True, blank=True)
    warning_claim = models.CharField(max_length=32, blank=True, default="")
    breached = models.BooleanField(default=False)
    breached_at = models.DateTimeField(null=True, blank=True)
    breach_claim = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact"], condition=Q(status="open"), name="handoff_one_open_per_contact"),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="handoff_owner_queue"),
            models.Index(fields=["status", "due_at"], name="handoff_status_due"),
            models.Index(fields=["opened_at"], name="handoff_opened"),
            models.Index(fields=["contact", "-opened_at"], name="handoff_contact"),
            models.Index(
                fields=["warn_at"],
                condition=Q(status="open", warned_at__isnull=True, first_response_at__isnull=True),
                name="handoff_warning_timer",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(status="open", breached=False, first_response_at__isnull=True),
                name="handoff_breach_timer",
            ),
            models.Index(fields=["warning_claim"], condition=~Q(warning_claim=""), name="handoff_warning_claim"),
            models.Index(fields=["breach_claim"], condition=~Q(breach_claim=""), name="handoff_breach_claim"),
        ]

    def __str__(self) -> str:
        return f"Handoff {self.pk} of {self.contact_id}"

    @property
    def is_open(self) -> bool:
        return self.status == HandoffStatus.OPEN

    @property
    def responded_within_sla(self) -> bool | None:
        if self.due_at is None or self.first_response_at is None:
            return None
        return self.first_response_at <= self.due_at


class HandoffEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    ASSIGNED = "assigned", "Assigned"
    ATTEMPT = "attempt", "Attempt logged"
    WARNED = "warned", "Warning sent"
    BREACHED = "breached", "Breached"
    REASSIGNED = "reassigned", "Reassigned"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled"


class HandoffEvent(models.Model):
    """The handoff's history. Warning and breach notices happen once each: the ledger enforces it."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=HandoffEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["handoff", "kind"], condition=Q(kind__in=["warned", "breached"]), name="handoff_notice_once"
            ),
        ]
        indexes = [models.Index(fields=["handoff", "at"], name="handoffevent_handoff")]
