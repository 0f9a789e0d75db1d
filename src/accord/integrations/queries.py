"""Reads for imports: which jobs a user may see, and the preview of an upload."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from django.db.models import QuerySet
from django.http import Http404

from django.conf import settings

from accord.core.errors import ValidationFailed
from accord.core.models import Role
from accord.dedup.services import ImportPreview as DuplicatePreview
from accord.dedup.services import import_preview as duplicate_preview
from accord.integrations.csv_import import csv_read, mapping_check, mapping_detect, row_to_lead
from accord.integrations.models import ImportJob

PREVIEW_ROWS = 5


def import_jobs_visible(user) -> QuerySet[ImportJob]:
    """Managers and admins see every import; everyone else their own."""
    jobs = ImportJob.objects.select_related("created_by", "campaign").defer("rejects", "mapping")
    if user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN):
        return jobs
    return jobs.filter(created_by=user)


def import_job_for_user(user, pk: int) -> ImportJob:
    job = import_jobs_visible(user).defer(None).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return job


@dataclass
class ImportPreview:
    header: list[str]
    mapping: list[str]
    sample: list[tuple[int, list[str]]]
    row_count: int
    encoding: str
    # How many rows match existing contacts (exactly, probably, possibly); None without an email column.
    matches: DuplicatePreview | None = None


def import_preview(job: ImportJob) -> ImportPreview:
    with job.upload.open("rb") as handle:
        csv_file = csv_read(handle.read())
    mapping = mapping_detect(csv_file.header)
    return ImportPreview(
        header=csv_file.header,
        mapping=mapping,
        sample=list(islice(csv_file.rows(), PREVIEW_ROWS)),
        row_count=csv_file.count_rows(),
        encoding=csv_file.encoding,
        matches=_matches(csv_file, mapping),
    )


def _matches(csv_file, mapping: list[str]) -> DuplicatePreview | None:
    """Duplicate detection's answer for the valid rows, read with the detected mapping."""
    try:
        mapping_check(mapping)
    except ValidationFailed:
        return None
    leads = []
    for _, values in csv_file.rows():
        try:
            leads.append(row_to_lead(values, mapping, default_region=settings.ACCORD_DEFAULT_PHONE_REGION))
        except ValidationFailed:
            continue
    return duplicate_preview(leads)
