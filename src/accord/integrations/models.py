from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One contact import (command line or upload): who ran it, on which file, and its outcome."""

    class Source(models.TextChoices):
        COMMAND_LINE = "cli", "Command line"
        WEB = "web", "Web upload"

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for confirmation"
        DONE = "done", "Done"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.COMMAND_LINE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DONE)
    file_name = models.CharField(max_length=255)
    # An upload waiting for its mapping to be confirmed; removed once imported.
    upload = models.FileField(upload_to="imports/", blank=True, default="")
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    encoding = models.CharField(max_length=16, blank=True, default="")
    # Column header → contact field ("" when the column was not imported).
    mapping = models.JSONField(default=dict, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    rows_total = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # [{"line": 7, "reason": "email: is required", "values": [...]}, …], the first REJECTS_KEPT of them.
    rejects = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    REJECTS_KEPT = 5000

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-started_at"], name="importjob_user_started")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def summary(self) -> str:
        return f"imported {self.imported_count}, updated {self.updated_count}, rejected {self.rejected_count}"
