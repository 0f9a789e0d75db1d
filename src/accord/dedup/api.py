"""Duplicate detection over JSON: the review queue, merge, undo, "not a duplicate", scans."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Query, Router, Schema

from accord.core.permissions import Perm, require_perm
from accord.core.schemas import InSchema, PageParams, page, page_of
from accord.dedup import queries
from accord.dedup.models import Merge, RecordKind, Suggestion
from accord.dedup.services import merge_undo, scan_request, suggestion_explain, suggestion_mark_distinct, suggestion_merge

router = Router(tags=["dedup"])


class EvidenceOut(Schema):
    field: str
    label: str
    level: str
    weight: float


class SuggestionOut(Schema):
    id: int
    kind: str
    left_id: int
    right_id: int
    probability: float
    status: str
    source: str
    created_at: datetime
    explanation: list[EvidenceOut]

    @staticmethod
    def resolve_explanation(suggestion: Suggestion) -> list[dict]:
        return suggestion_explain(suggestion)


class SuggestionQuery(Schema):
    kind: Literal["contact", "account"] = "contact"
    status: Literal["pending", "merged", "distinct", "superseded"] = "pending"


class MergeIn(InSchema):
    survivor_id: int | None = None
    # Per field: "survivor" or "loser"; fields left out take the most recent non-empty value.
    choices: dict[str, str] = {}
    # Record id → updated_at as the client last saw it; the merge is refused if either changed.
    versions: dict[int, datetime] = {}


class MergeOut(Schema):
    id: int
    kind: str
    survivor_id: int
    loser_id: int
    suggestion_id: int | None
    merged_at: datetime
    undone_at: datetime | None


class ScanOut(Schema):
    id: int
    status: str
    step: str
    progress: float
    records: int
    candidate_pairs: int
    suggestions: int
    created_at: datetime
    finished_at: datetime | None


@router.get("/suggestions", response=page_of(SuggestionOut), summary="List suggested duplicate pairs")
def suggestion_list(request, filters: Query[SuggestionQuery], paging: Query[PageParams]):
    require_perm(request.user, Perm.MERGE_RECORDS)
    queryset = Suggestion.objects.filter(kind=filters.kind, status=filters.status).order_by("-probability", "id")
    return page(queryset, paging)


@router.get("/suggestions/{suggestion_id}", response=SuggestionOut, summary="One suggested pair, explained")
def suggestion_detail(request, suggestion_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return queries.suggestion_get(suggestion_id=suggestion_id)


@router.post("/suggestions/{suggestion_id}/merge", response={201: MergeOut}, summary="Merge the pair")
def suggestion_merge_endpoint(request, suggestion_id: int, body: MergeIn):
    require_perm(request.user, Perm.MERGE_RECORDS)
    suggestion = queries.suggestion_get(suggestion_id=suggestion_id)
    merge = suggestion_merge(
        suggestion=suggestion, actor=request.user, survivor_id=body.survivor_id, choices=body.choices,
        seen_versions=body.versions or None,
    )
    return 201, merge


@router.post("/suggestions/{suggestion_id}/not-duplicate", response=SuggestionOut, summary="Not a duplicate (remembered)")
def suggestion_distinct_endpoint(request, suggestion_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return suggestion_mark_distinct(suggestion=queries.suggestion_get(suggestion_id=suggestion_id), actor=request.user)


@router.get("/merges", response=page_of(MergeOut), summary="Merges, newest first")
def merge_list(request, paging: Query[PageParams]):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return page(Merge.objects.order_by("-merged_at", "-id"), paging)


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge, restoring both records")
def merge_undo_endpoint(request, merge_id: int):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return merge_undo(merge=queries.merge_get(merge_id=merge_id), actor=request.user)


@router.post("/scans", response={202: ScanOut}, summary="Queue a scan of the whole base")
def scan_start(request):
    require_perm(request.user, Perm.MERGE_RECORDS)
    return 202, scan_request(actor=request.user, reason="API")


@router.get("/scans/latest", response={200: ScanOut, 204: None}, summary="The latest scan and its progress")
def scan_latest(request):
    require_perm(request.user, Perm.MERGE_RECORDS)
    scan = queries.scan_latest()
    return (200, scan) if scan else (204, None)


__all__ = ["router", "RecordKind"]
