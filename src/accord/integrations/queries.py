"""Reads for imports: which jobs a user may see, and the preview of an upload."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from django.db.models import QuerySet
from django.http import Http404

from accord.core.models import Role
from accord.integrations.csv_import import csv_read, mapping_detect
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


def import_preview(job: ImportJob) -> ImportPreview:
    with job.upload.open("rb") as handle:
        csv_file = csv_read(handle.read())
    return ImportPreview(
        header=csv_file.header,
        mapping=mapping_detect(csv_file.header),
        sample=list(islice(csv_file.rows(), PREVIEW_ROWS)),
        row_count=csv_file.count_rows(),
        encoding=csv_file.encoding,
    )
