"""Scoring models that Marketing and Sales own together, and the scores they give contacts.

A model is a version: its rules never change once it is active (a new draft is made from it).
The denormalized current score and grade sit on ``crm.Contact``; the breakdown that explains
them, and the history for the chart, live here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.models import Team


class ModelStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


GRADES = ("A", "B", "C", "D")


class ScoringModel(models.Model):
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=ModelStatus.choices, default=ModelStatus.DRAFT)
    description = models.TextField(blank=True, default="")
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Minimum fit points for each grade: {"A": 60, "B": 40, "C": 20}; D is everything below C.
    grade_bands = models.JSONField(default=dict)
    # The MQL definition: grade at least this good and score at least this many points.
    mql_min_grade = models.CharField(max_length=1, default="B")
    mql_min_score = models.IntegerField(default=50)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    proposed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="scoring_one_active_model"),
            models.CheckConstraint(condition=Q(mql_min_grade__in=GRADES), name="scoring_mql_grade_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status in (ModelStatus.DRAFT, ModelStatus.PROPOSED)


class RuleKind(models.TextChoices):
    FIT = "fit", "Fit (profile)"
    ENGAGEMENT = "engagement", "Engagement (touchpoints)"
    NEGATIVE = "negative", "Negative"


class ScoringRule(models.Model):
    """One rule of one model version. ``condition`` holds the rule's own parameters (see rules.py)."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    label = models.CharField(max_length=120)
    field = models.CharField(max_length=40)
    operator = models.CharField(max_length=20)
    value = models.JSONField(default=list, blank=True)
    points = models.IntegerField()
    # Engagement rules only: most points the rule may give, and the half-life of an event's points.
    cap = models.IntegerField(null=True, blank=True)
    half_life_days = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["model", "position", "id"]

    def __str__(self) -> str:
        return self.label


class ScoringApproval(models.Model):
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=16, choices=Team.choices)
    approved_at = models.DateTimeField()

    class Meta:
        ordering = ["approved_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "side"], name="scoring_one_approval_per_side"),
            models.UniqueConstraint(fields=["model", "user"], name="scoring_one_approval_per_user"),
        ]


class ScoringComment(models.Model):
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class ScoringAudit(models.Model):
    """Every change to a model: who did what, when, with the details."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "-at"], name="scoring_audit_model")]


class ContactScore(models.Model):
    """The current score of one contact under the active model, with its rule-by-rule breakdown."""

    contact = models.OneToOneField("crm.Contact", primary_key=True, on_delete=models.CASCADE, related_name="score_detail")
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="+")
    score = models.IntegerField()
    grade = models.CharField(max_length=1)
    fit_points = models.IntegerField()
    engagement_points = models.IntegerField()
    qualified = models.BooleanField(default=False)
    # [{"rule": id, "label": ..., "kind": ..., "points": n, "events": n}] for every rule that counted.
    breakdown = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["model", "qualified"], name="scoring_contactscore_mql")]


class ScoreHistory(models.Model):
    """One row each time a contact's score or grade changes; drawn as the small chart."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="+")
    score = models.IntegerField()
    grade = models.CharField(max_length=1)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["contact", "recorded_at", "id"]
        indexes = [models.Index(fields=["contact", "recorded_at"], name="scoring_history_contact")]
