"""Pages for contact import (upload → preview of the mapping → import) and the CSV export."""

from __future__ import annotations

import csv
from io import StringIO

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accord.campaigns.models import Campaign
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.crm.queries import contact_filter_from_params, contacts_matching
from accord.integrations.csv_import import IMPORT_FIELDS
from accord.integrations.export import contacts_csv_chunks
from accord.integrations.models import ImportJob
from accord.integrations.queries import import_job_for_user, import_jobs_visible, import_preview
from accord.integrations.services import import_job_run, import_upload_store

REJECTS_PER_PAGE = 50


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    require_perm(request.user, Perm.IMPORT_CONTACTS)
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        campaign = None
        campaign_id = request.POST.get("campaign", "").strip()
        if campaign_id:
            campaign = Campaign.objects.filter(pk=int(campaign_id)).first() if campaign_id.isdigit() else None
            if campaign is None:
                errors["campaign"] = "choose a campaign from the list"
        if upload is None:
            errors["file"] = "choose a CSV file to upload"
        if not errors:
            try:
                job = import_upload_store(
                    actor=request.user, file_name=upload.name, data=upload.read(), campaign=campaign
                )
            except ValidationFailed as refused:
                errors = refused.errors
            else:
                return redirect("import_detail", pk=job.pk)
    jobs = Paginator(import_jobs_visible(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/import_start.html",
        {
            "errors": errors,
            "jobs": jobs,
            "campaigns": Campaign.objects.only("id", "name").order_by("name")[:500],
            "fields": IMPORT_FIELDS,
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    require_perm(request.user, Perm.IMPORT_CONTACTS)
    job = import_job_for_user(request.user, pk)
    errors: dict[str, str] = {}
    if job.status == ImportJob.Status.PREVIEW and request.method == "POST":
        preview = import_preview(job)
        columns = [request.POST.get(f"column-{index}", "") for index in range(len(preview.header))]
        try:
            import_job_run(job=job, actor=request.user, columns=columns)
        except ValidationFailed as refused:
            errors = refused.errors
        else:
            return redirect("import_detail", pk=job.pk)
    if job.status == ImportJob.Status.PREVIEW:
        preview = import_preview(job)
        if request.method == "POST":
            preview.mapping = [request.POST.get(f"column-{index}", "") for index in range(len(preview.header))]
        return render(
            request,
            "integrations/import_preview.html",
            {
                "job": job,
                "preview": preview,
                "columns": [
                    (name, field, [values[index] for _, values in preview.sample if index < len(values)])
                    for index, (name, field) in enumerate(zip(preview.header, preview.mapping))
                ],
                "fields": IMPORT_FIELDS,
                "errors": errors,
            },
            status=422 if errors else 200,
        )
    rejects = Paginator(job.rejects, REJECTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "integrations/import_result.html", {"job": job, "rejects": rejects})


@login_required
@require_GET
def import_rejects_csv(request, pk: int):
    require_perm(request.user, Perm.IMPORT_CONTACTS)
    job = import_job_for_user(request.user, pk)
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "reason", *job.mapping.keys()])
    for reject in job.rejects:
        writer.writerow([reject["line"], reject["reason"], *reject.get("values", [])])
    response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejects-{job.pk}.csv"'
    return response


@login_required
@require_GET
def contact_export(request):
    """The contacts list as CSV, with the same filter parameters as the list page."""
    require_perm(request.user, Perm.EXPORT_CONTACTS)
    try:
        contact_filter = contact_filter_from_params(request.GET)
    except ValidationFailed as refused:
        text = "\n".join(f"{name}: {message}" for name, message in refused.errors.items())
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(contacts_csv_chunks(contacts_matching(contact_filter)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contacts-{now():%Y-%m-%d}.csv"'
    return response
