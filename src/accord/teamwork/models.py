"""Common ground between the teams: who is responsible for what, conversations on records,
requests between teams, shared goals, and the joint meeting."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ResponsibilityArea(models.TextChoices):
    SEGMENT = "segment", "Segment"
    TERRITORY = "territory", "Territory"
    CAMPAIGN = "campaign", "Campaigns"
    PRODUCT = "product", "Product"
    INDUSTRY = "industry", "Industry"
    TOPIC = "topic", "Topic"


class Responsibility(models.Model):
    """"Ask Maria about fintech campaigns": one row per area a person answers for."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="responsibilities")
    area = models.CharField(max_length=16, choices=ResponsibilityArea.choices)
    value = models.CharField(max_length=100)
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["area", "value"]
        constraints = [models.UniqueConstraint(fields=["user", "area", "value"], name="responsibility_once")]
        indexes = [models.Index(fields=["value"], name="responsibility_value")]


class DirectoryProfile(models.Model):
    """Working hours and contact details beyond the user row (time zone and away live on the user)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_profile")
    work_starts = models.TimeField(null=True, blank=True)
    work_ends = models.TimeField(null=True, blank=True)
    # ISO weekdays worked, e.g. "12345".
    work_days = models.CharField(max_length=7, default="12345")
    location = models.CharField(max_length=100, blank=True, default="")
    about = models.CharField(max_length=500, blank=True, default="")


class Comment(models.Model):
    """A remark on a record (contact, account, opportunity, campaign, handoff, article, request, meeting)."""

    target_type = models.CharField(max_length=32)
    target_id = models.PositiveBigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"], name="comment_target")]


class Mention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="mention_once")]


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class TeamRequest(models.Model):
    """A request from one team to the other ("need a fintech case study"), raised, assigned, closed."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="raised_requests")
    from_team = models.CharField(max_length=16)
    to_team = models.CharField(max_length=16)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_requests"
    )
    # Private requests are read only by the people in them (raiser, assignee, those mentioned).
    private = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN, db_index=True)
    resolution = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class RequestParticipant(models.Model):
    request = models.ForeignKey(TeamRequest, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "user"], name="request_participant_once")]


class GoalMetric(models.TextChoices):
    MARKETING_SOURCED_PIPELINE = "marketing_sourced_pipeline", "Marketing-sourced pipeline"
    WON_REVENUE = "won_revenue", "Won revenue"
    MQL_ACCEPTANCE_RATE = "mql_acceptance_rate", "MQL acceptance rate (%)"
    MQL_COUNT = "mql_count", "New MQLs"
    SLA_COMPLIANCE = "sla_compliance", "SLA compliance (%)"


class Goal(models.Model):
    """A target both teams share; its progress is computed from the records, never typed in."""

    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=32, choices=GoalMetric.choices)
    target = models.DecimalField(max_digits=16, decimal_places=2)
    period_start = models.DateField()
    period_end = models.DateField()
    # Optional: only accounts in this industry count (e.g. revenue from the fintech segment).
    industry = models.CharField(max_length=100, blank=True, default="")
    reward = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="goal_period_in_order"),
        ]


class Meeting(models.Model):
    """The recurring Sales–Marketing meeting: agenda generated from the numbers, then notes."""

    title = models.CharField(max_length=200)
    held_on = models.DateField()
    covers_from = models.DateField()
    agenda = models.JSONField(default=list)
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_on", "-id"]


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendee_once")]


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()


class ActionItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "done_at"], name="action_owner_open")]
