"""Pages of duplicate detection: the review queue, the merge screen, merge history and undo."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.dedup import queries
from accord.dedup.models import RecordKind, SuggestionStatus
from accord.dedup.services import (
    choice_fields,
    default_choices,
    merge_undo,
    pair_cautions,
    scan_request,
    suggestion_explain,
    suggestion_mark_distinct,
    suggestion_merge,
)

FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone", "job_title": "Job title",
    "seniority": "Seniority", "account": "Account", "owner": "Owner", "street": "Street", "city": "City",
    "postcode": "Postcode", "state": "State", "country": "Country", "birth_date": "Birth date",
    "external_id": "External id", "name": "Name", "domain": "Domain", "industry": "Industry",
    "employee_count": "Employees", "annual_revenue": "Annual revenue", "website": "Website",
}


def _kind(raw: str | None) -> str:
    return RecordKind.ACCOUNT if raw == RecordKind.ACCOUNT else RecordKind.CONTACT


@login_required
@require_GET
def queue(request):
    require_perm(request.user, Perm.MERGE_RECORDS)
    kind = _kind(request.GET.get("kind"))
    page = queries.suggestion_queue(kind=kind, page=request.GET.get("page") or 1)
    suggestions = list(page.object_list)
    records = queries.records_for(kind, {i for s in suggestions for i in (s.left_id, s.right_id)})
    params = queries.current_parameters()
    rows = []
    for suggestion in suggestions:
        explanation = suggestion_explain(suggestion, params)
        agreeing = [row for row in explanation if row["level"] not in ("missing", "differs")]
        rows.append(
            {
                "suggestion": suggestion,
                "left": records.get(suggestion.left_id),
                "right": records.get(suggestion.right_id),
                "percent": round(suggestion.probability * 100, 1),
                "evidence": agreeing[:4],
                "cautions": pair_cautions(records.get(suggestion.left_id), records.get(suggestion.right_id)),
            }
        )
    return render(
        request,
        "dedup/queue.html",
        {
            "kind": kind,
            "page": page,
            "rows": rows,
            "scan": queries.scan_latest(),
            "pending_contacts": queries.pending_count(RecordKind.CONTACT),
            "pending_accounts": queries.pending_count(RecordKind.ACCOUNT),
        },
    )


def _field_rows(kind, left, right, chosen):
    rows = []
    for name in choice_fields(kind):
        field = left._meta.get_field(name)
        left_value = getattr(left, name)
        right_value = getattr(right, name)
        rows.append(
            {
                "name": name,
                "label": FIELD_LABELS.get(name, field.verbose_name.capitalize()),
                "left": "" if left_value is None else left_value,
                "right": "" if right_value is None else right_value,
                "same": left_value == right_value,
                "pick": chosen.get(name, "left"),
            }
        )
    return rows


@login_required
@require_GET
def review(request, suggestion_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    suggestion = queries.suggestion_get(suggestion_id=suggestion_id)
    records = queries.records_for(suggestion.kind, [suggestion.left_id, suggestion.right_id])
    left, right = records.get(suggestion.left_id), records.get(suggestion.right_id)
    context = {
        "suggestion": suggestion, "left": left, "right": right, "explanation": suggestion_explain(suggestion),
        "cautions": pair_cautions(left, right),
    }
    if left is not None and right is not None and suggestion.status == SuggestionStatus.PENDING:
        # Defaults as the left record surviving: most recent non-empty value wins.
        defaults = default_choices(suggestion.kind, left, right)
        chosen = {name: ("left" if side == "survivor" else "right") for name, side in defaults.items()}
        context["fields"] = _field_rows(suggestion.kind, left, right, chosen)
    context["merge"] = suggestion.merges.filter(undone_at__isnull=True).first()
    return render(request, "dedup/review.html", context)


def _versions(request, suggestion) -> dict[int, datetime]:
    seen = {}
    for side, pk in (("left", suggestion.left_id), ("right", suggestion.right_id)):
        raw = request.POST.get(f"version-{side}", "")
        if raw:
            try:
                seen[pk] = datetime.fromisoformat(raw)
            except ValueError:
                raise ValidationFailed.single("version", "the page was damaged; open the pair again") from None
    return seen


@login_required
@require_POST
def merge(request, suggestion_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    suggestion = queries.suggestion_get(suggestion_id=suggestion_id)
    survivor_side = request.POST.get("survivor", "left")
    if survivor_side not in ("left", "right"):
        survivor_side = "left"
    survivor_id = suggestion.left_id if survivor_side == "left" else suggestion.right_id
    choices = {}
    for name in choice_fields(suggestion.kind):
        side = request.POST.get(f"field-{name}")
        if side in ("left", "right"):
            choices[name] = "survivor" if side == survivor_side else "loser"
    try:
        done = suggestion_merge(
            suggestion=suggestion, actor=request.user, survivor_id=survivor_id, choices=choices,
            seen_versions=_versions(request, suggestion),
        )
    except ValidationFailed as refused:
        for message in refused.errors.values():
            messages.error(request, message)
        return redirect("dedup:review", suggestion_id=suggestion.pk)
    messages.success(request, f"Merged into {done.survivor_label}. You can undo this merge below.")
    return redirect("dedup:merge_detail", merge_id=done.pk)


@login_required
@require_POST
def distinct(request, suggestion_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    suggestion = queries.suggestion_get(suggestion_id=suggestion_id)
    try:
        suggestion_mark_distinct(suggestion=suggestion, actor=request.user)
    except ValidationFailed as refused:
        for message in refused.errors.values():
            messages.error(request, message)
        return redirect("dedup:review", suggestion_id=suggestion.pk)
    messages.success(request, "Marked as not a duplicate. This pair will not be suggested again.")
    return redirect(f"/duplicates/?kind={suggestion.kind}")


@login_required
@require_GET
def merges(request):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return render(request, "dedup/merges.html", {"page": queries.merges_recent(page=request.GET.get("page") or 1)})


@login_required
@require_GET
def merge_detail(request, merge_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    record = queries.merge_get(merge_id=merge_id)
    survivor = queries.records_for(record.kind, [record.survivor_id]).get(record.survivor_id)
    loser = queries.records_for(record.kind, [record.loser_id]).get(record.loser_id)
    timeline = queries.timeline(kind=record.kind, record_id=record.survivor_id) if survivor is not None else []
    return render(
        request,
        "dedup/merge_detail.html",
        {"merge": record, "survivor": survivor, "loser": loser, "timeline": timeline},
    )


@login_required
@require_POST
def undo(request, merge_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    record = queries.merge_get(merge_id=merge_id)
    try:
        merge_undo(merge=record, actor=request.user)
    except ValidationFailed as refused:
        for message in refused.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, f"Merge undone: {record.survivor_label} and {record.loser_label} are two records again.")
    return redirect("dedup:merge_detail", merge_id=record.pk)


@login_required
@require_POST
def scan(request):
    require_perm(request.user, Perm.MERGE_RECORDS)
    scan_request(actor=request.user, reason="on demand")
    messages.success(request, "A scan of the whole base is queued; its progress shows here.")
    return redirect("dedup:queue")
