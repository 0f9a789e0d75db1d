"""What duplicate detection keeps: match keys, suggestions, decisions, merges, scans, models.

Contact and account ids are plain integers here, not foreign keys: a merge deletes the
losing record and its undo brings it back with the same id, and the history of both must
survive in between.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RecordKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    ACCOUNT = "account", "Account"


class MatchKey(models.Model):
    """One blocking key of one contact: the index capture looks candidates up in."""

    contact_id = models.BigIntegerField()
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["key"], name="dedup_matchkey_key"),
            models.Index(fields=["contact_id"], name="dedup_matchkey_contact"),
        ]


class IndexState(models.Model):
    """How far the match-key index is built: contacts changed after ``built_through`` are refreshed."""

    built_through = models.DateTimeField(null=True, blank=True)
    contacts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()


class MatchModel(models.Model):
    """Parameters of the Fellegi–Sunter model, estimated by a scan and refined by decisions."""

    kind = models.CharField(max_length=16, choices=RecordKind.choices, default=RecordKind.CONTACT)
    parameters = models.JSONField()
    # Estimated parameters before the team's decisions were applied, kept to re-apply them.
    estimated = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    MERGED = "merged", "Merged"
    DISTINCT = "distinct", "Not a duplicate"
    SUPERSEDED = "superseded", "Superseded"


class SuggestionSource(models.TextChoices):
    SCAN = "scan", "Whole-base scan"
    CAPTURE = "capture", "Capture"


class Suggestion(models.Model):
    """A pair that may be one person (or company), with the evidence field by field."""

    kind = models.CharField(max_length=16, choices=RecordKind.choices, default=RecordKind.CONTACT)
    left_id = models.BigIntegerField()  # always the smaller id
    right_id = models.BigIntegerField()
    probability = models.FloatField()
    weight = models.FloatField(default=0)
    # Comparison level per field (engine.FIELDS order); explained with the current model when shown.
    levels = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING)
    source = models.CharField(max_length=16, choices=SuggestionSource.choices, default=SuggestionSource.SCAN)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "left_id", "right_id"], name="dedup_suggestion_pair_once"),
            models.CheckConstraint(condition=Q(left_id__lt=models.F("right_id")), name="dedup_suggestion_ordered"),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "-probability", "id"], name="dedup_suggestion_queue"),
            # (kind, left_id) is served by the unique pair constraint's index.
            models.Index(fields=["kind", "right_id"], name="dedup_suggestion_right"),
        ]


class Decision(models.Model):
    """What a person decided about a pair. "Not a duplicate" is remembered forever."""

    class Verdict(models.TextChoices):
        MERGED = "merged", "Merged"
        DISTINCT = "distinct", "Not a duplicate"

    kind = models.CharField(max_length=16, choices=RecordKind.choices, default=RecordKind.CONTACT)
    left_id = models.BigIntegerField()
    right_id = models.BigIntegerField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    # The comparison levels when the decision was taken: what the model learns from.
    levels = models.JSONField(default=list)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()
    # A merge that was undone no longer teaches anything.
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "left_id", "right_id"], name="dedup_decision_pair"),
            models.Index(fields=["kind", "verdict"], name="dedup_decision_verdict"),
        ]


class Merge(models.Model):
    """One merge, recorded with everything needed to undo it exactly."""

    kind = models.CharField(max_length=16, choices=RecordKind.choices, default=RecordKind.CONTACT)
    survivor_id = models.BigIntegerField()
    loser_id = models.BigIntegerField()
    survivor_label = models.CharField(max_length=300, blank=True, default="")
    loser_label = models.CharField(max_length=300, blank=True, default="")
    suggestion = models.ForeignKey(Suggestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges")
    # {"loser": serialized row, "survivor_before": {...}, "survivor_after": {...},
    #  "moved": [{"model", "field", "ids"}], "removed": [serialized rows], "suggestions": [...]}
    snapshot = models.JSONField()
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "survivor_id"], name="dedup_merge_survivor"),
            models.Index(fields=["kind", "loser_id"], name="dedup_merge_loser"),
            models.Index(fields=["-merged_at", "-id"], name="dedup_merge_recent"),
        ]

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Scan(models.Model):
    """A whole-base scan and its progress."""

    status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    reason = models.CharField(max_length=100, blank=True, default="")
    step = models.CharField(max_length=40, blank=True, default="")
    progress = models.FloatField(default=0)
    records = models.PositiveIntegerField(default=0)
    candidate_pairs = models.PositiveBigIntegerField(default=0)
    suggestions = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="dedup_scan_status")]
