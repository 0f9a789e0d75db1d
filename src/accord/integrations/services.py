"""Contact import: a CSV file through the one capture pipeline, set-wise in batches.

Every good row is stored; every bad row is reported with its line number and reason; the
same file imported again changes nothing (contacts are found by email, and each row's
touchpoint carries a key made from its content).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile

from accord.campaigns.models import Campaign
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.models import StageChange
from accord.integrations.csv_import import (
    IMPORT_FIELDS,
    CsvFile,
    csv_read,
    describe_error,
    mapping_check,
    mapping_detect,
    mapping_override,
    row_to_lead,
)
from accord.integrations.models import ImportJob
from accord.intake.leads import LeadInput
from accord.intake.services import DEFAULT_BATCH_SIZE, leads_capture_bulk


@dataclass
class Reject:
    line: int
    reason: str
    values: list[str]


@dataclass
class ImportResult:
    job: ImportJob
    header: list[str]
    rejects: list[Reject] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return self.job.summary


def import_mapping(
    *, csv_file: CsvFile, overrides: dict[str, str] | None = None, columns: list[str] | None = None
) -> list[str]:
    """The mapping to use: ``columns`` (a field per column, chosen on the upload page) when given,
    else the detected one with the explicit ``overrides``; ValidationFailed if unusable."""
    if columns is not None:
        if len(columns) != len(csv_file.header):
            raise ValidationFailed.single("mapping", "names a field for a different number of columns than the file has")
        bad = [field for field in columns if field and field not in IMPORT_FIELDS]
        if bad:
            raise ValidationFailed.single("mapping", f"'{bad[0][:40]}' is not a contact field")
        mapping_check(columns)
        return list(columns)
    mapping = mapping_detect(csv_file.header)
    if overrides:
        mapping = mapping_override(csv_file.header, mapping, overrides)
    mapping_check(mapping)
    return mapping


def campaign_find(*, reference: str) -> Campaign:
    """A campaign by id, UTM campaign or exact name (for --campaign and the upload form)."""
    reference = reference.strip()
    campaign = None
    if reference.isdigit():
        campaign = Campaign.objects.filter(pk=int(reference)).first()
    if campaign is None:
        campaign = (
            Campaign.objects.filter(utm_campaign=reference.lower()).first()
            or Campaign.objects.filter(name__iexact=reference).order_by("id").first()
        )
    if campaign is None:
        raise ValidationFailed.single("campaign", f"there is no campaign with the id, UTM campaign or name '{reference[:80]}'")
    return campaign


def contacts_import(
    *,
    data: bytes,
    file_name: str,
    actor=None,
    overrides: dict[str, str] | None = None,
    columns: list[str] | None = None,
    campaign: Campaign | None = None,
    source: str = ImportJob.Source.COMMAND_LINE,
    job: ImportJob | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a contact CSV. Raises ValidationFailed only when the file as a whole is unusable."""
    csv_file = csv_read(data)
    mapping = import_mapping(csv_file=csv_file, overrides=overrides, columns=columns)
    region = settings.ACCORD_DEFAULT_PHONE_REGION
    campaign_id = campaign.pk if campaign else None

    job = job or ImportJob(created_by=actor, source=source)
    job.file_name = file_name[:255]
    job.file_sha256 = hashlib.sha256(data).hexdigest()
    job.encoding = csv_file.encoding
    job.mapping = {name or f"column {index + 1}": mapping[index] for index, name in enumerate(csv_file.header)}
    job.campaign = campaign
    job.started_at = job.started_at or now()
    job.save()

    result = ImportResult(job=job, header=csv_file.header)
    # The pipeline itself refuses a row only for a campaign id that does not exist; keep those rows' values.
    kept: dict[int, list[str]] = {}
    keep_values = "campaign_id" in mapping
    invalid = 0

    def good_rows() -> Iterator[tuple[int, LeadInput]]:
        nonlocal invalid
        for line, values in csv_file.rows():
            job.rows_total += 1
            try:
                lead = row_to_lead(values, mapping, default_region=region, campaign_id=campaign_id)
            except ValidationFailed as error:
                result.rejects.append(Reject(line=line, reason=describe_error(error), values=values))
                invalid += 1
                if on_progress and invalid % 500 == 0:
                    on_progress(500)
                continue
            if keep_values:
                kept[line] = values
            yield line, lead

    summary = leads_capture_bulk(
        leads=good_rows(), actor=actor, source=StageChange.Source.IMPORT, batch_size=batch_size, on_batch=on_progress
    )
    if on_progress and invalid % 500:
        on_progress(invalid % 500)
    for line, error in summary.rejected:
        result.rejects.append(Reject(line=line, reason=describe_error(error), values=kept.get(line, [])))
    result.rejects.sort(key=lambda reject: reject.line)

    job.imported_count = summary.created
    job.updated_count = summary.updated
    job.unchanged_count = summary.unchanged
    job.rejected_count = len(result.rejects)
    job.rejects = [
        {"line": r.line, "reason": r.reason, "values": r.values} for r in result.rejects[: ImportJob.REJECTS_KEPT]
    ]
    job.status = ImportJob.Status.DONE
    job.finished_at = now()
    job.save()
    return result


def import_upload_store(*, actor, file_name: str, data: bytes, campaign: Campaign | None = None) -> ImportJob:
    """Keep an uploaded file until its mapping is confirmed; ValidationFailed when it is not a usable CSV."""
    limit = settings.ACCORD_MAX_IMPORT_BYTES
    if not data:
        raise ValidationFailed.single("file", "is empty")
    if len(data) > limit:
        raise ValidationFailed.single("file", f"is larger than {limit // (1024 * 1024)} MB")
    csv_file = csv_read(data)
    mapping = mapping_detect(csv_file.header)
    job = ImportJob(
        created_by=actor,
        source=ImportJob.Source.WEB,
        status=ImportJob.Status.PREVIEW,
        file_name=(file_name or "upload.csv")[:255],
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=csv_file.encoding,
        mapping={name or f"column {index + 1}": mapping[index] for index, name in enumerate(csv_file.header)},
        campaign=campaign,
        started_at=now(),
    )
    job.upload.save(f"{job.file_sha256[:16]}.csv", ContentFile(data), save=False)
    job.save()
    return job


def import_job_run(*, job: ImportJob, actor, columns: list[str] | None = None) -> ImportResult:
    """Import a previewed upload with the confirmed mapping, then delete the stored file."""
    if job.status != ImportJob.Status.PREVIEW or not job.upload:
        raise ValidationFailed.single("job", "this import has already run")
    with job.upload.open("rb") as handle:
        data = handle.read()
    result = contacts_import(
        data=data, file_name=job.file_name, actor=actor, columns=columns, campaign=job.campaign, job=job,
        source=ImportJob.Source.WEB,
    )
    job.upload.delete(save=False)
    job.save(update_fields=["upload"])
    return result
