"""Reads for scoring pages and the API."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accord.crm.models import Contact
from accord.scoring.models import (
    ContactScore,
    ModelStatus,
    RuleKind,
    ScoreHistory,
    ScoringApproval,
    ScoringAudit,
    ScoringComment,
    ScoringModel,
    ScoringRule,
)

HISTORY_POINTS = 60


def models_list() -> QuerySet[ScoringModel]:
    return ScoringModel.objects.select_related("created_by").prefetch_related(
        Prefetch("approvals", queryset=ScoringApproval.objects.select_related("user"))
    ).order_by("-version")


def model_get(pk: int) -> ScoringModel:
    return get_object_or_404(
        ScoringModel.objects.select_related("created_by", "based_on").prefetch_related(
            "rules",
            Prefetch("approvals", queryset=ScoringApproval.objects.select_related("user")),
            Prefetch("comments", queryset=ScoringComment.objects.select_related("author")),
        ),
        pk=pk,
    )


def model_audit(model: ScoringModel, *, limit: int = 100) -> list[ScoringAudit]:
    return list(ScoringAudit.objects.filter(model=model).select_related("actor")[:limit])


# The active model as this process last read it, with the stored row it was read from.
_active_kept: tuple[tuple, ScoringModel] | None = None


def active_model_get() -> ScoringModel | None:
    """The active model (None when there is none).

    Capture rescores every batch under it, so every API call asks: building the queryset
    cost about a millisecond, the plain statement a twentieth of that. The model's stored
    row is read on every call, and the instance kept from an earlier call is handed out (as
    a copy) only when that row is the same in every column: a model activated, retired or
    changed by any process or any statement is seen at once.
    """
    global _active_kept
    meta = ScoringModel._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model_field.column) for model_field in meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote('status')} = %s "
            f"ORDER BY {quote('created_at')} DESC, {quote('id')} DESC LIMIT 1",
            [ModelStatus.ACTIVE],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    kept = _active_kept
    if kept is None or kept[0] != row:
        model = ScoringModel.objects.filter(pk=row[0], status=ModelStatus.ACTIVE).first()
        if model is None:  # retired between the two statements
            return None
        kept = _active_kept = (row, model)
    return copy.copy(kept[1])


@dataclass
class HistoryChart:
    """A small line chart of a contact's score, drawn as SVG by the template."""

    width: int = 240
    height: int = 60
    points: str = ""
    first: object = None
    last: object = None
    low: int = 0
    high: int = 0
    samples: list[tuple] = field(default_factory=list)


def history_chart(history: list[ScoreHistory], *, width: int = 240, height: int = 60) -> HistoryChart:
    chart = HistoryChart(width=width, height=height)
    if not history:
        return chart
    scores = [h.score for h in history]
    low, high = min(scores + [0]), max(scores + [1])
    start = history[0].recorded_at.timestamp()
    span = max(history[-1].recorded_at.timestamp() - start, 1.0)
    pad = 4
    coords = []
    for index, h in enumerate(history):
        if len(history) == 1:
            x = width / 2
        else:
            x = pad + (width - 2 * pad) * (h.recorded_at.timestamp() - start) / span
        y = height - pad - (height - 2 * pad) * (h.score - low) / max(high - low, 1)
        coords.append(f"{x:.1f},{y:.1f}")
    chart.points = " ".join(coords)
    chart.first, chart.last = history[0].recorded_at, history[-1].recorded_at
    chart.low, chart.high = low, high
    chart.samples = [(h.recorded_at, h.score, h.grade) for h in history[-5:]]
    return chart


@dataclass
class ContactScorePanel:
    contact: Contact
    detail: ContactScore | None
    model: ScoringModel | None
    chart: HistoryChart
    history: list[ScoreHistory]


def contact_score_panel(contact: Contact) -> ContactScorePanel:
    """Score, grade, rule-by-rule breakdown and score history for one contact (three queries)."""
    detail = ContactScore.objects.select_related("model").filter(contact=contact).first()
    history = list(
        ScoreHistory.objects.filter(contact=contact).order_by("-recorded_at", "-id").values_list("recorded_at", "score", "grade", "model_id")[
            :HISTORY_POINTS
        ]
    )
    rows = [ScoreHistory(recorded_at=at, score=score, grade=grade, model_id=model_id) for at, score, grade, model_id in reversed(history)]
    return ContactScorePanel(
        contact=contact,
        detail=detail,
        model=detail.model if detail else None,
        chart=history_chart(rows),
        history=rows,
    )


def contact_for_score(contact_id: int) -> Contact:
    return get_object_or_404(Contact.objects.select_related("account"), pk=contact_id)


def contact_score_panel_context(contact: Contact, user) -> dict | None:
    """The 360° page's score panel (crm.panels registry): a dict for ``scoring/_contact_score.html``."""
    from accord.core.permissions import Perm, has_perm

    if not has_perm(user, Perm.VIEW_RECORDS):
        return None
    panel = contact_score_panel(contact)
    return {"contact": panel.contact, "detail": panel.detail, "model": panel.model, "chart": panel.chart, "history": panel.history}


def ideal_customer_profile() -> dict[str, dict[str, float]] | None:
    """The live model's positive fit rules read as the customer mix both teams aim for.

    The fit rules *are* the ideal customer profile Marketing and Sales approved together, so the
    reports compare won customers against them rather than against a second, separately kept
    profile. Per dimension the reports track (industry, company size, job function), each value a
    positive fit rule targets gets that rule's points as weight, and the weights become shares.
    A dimension no fit rule talks about is left out (no expectation, so no drift against it).
    """
    from accord.reports.queries import title_function
    from accord.reports.segments import MIDMARKET_MAX, SMB_MAX

    # The size bands the reports group won customers by, as (band, lowest, highest) employees.
    size_bands = (("smb", 1, SMB_MAX), ("midmarket", SMB_MAX + 1, MIDMARKET_MAX), ("enterprise", MIDMARKET_MAX + 1, None))

    model = active_model_get()
    if model is None:
        return None
    weights: dict[str, dict[str, float]] = {"industry": {}, "size": {}, "title": {}}
    for rule in ScoringRule.objects.filter(model=model, kind=RuleKind.FIT, points__gt=0).only(
        "field", "operator", "value", "points"
    ):
        for dimension, value in _profile_values(rule.field, rule.operator, rule.value, title_function, size_bands):
            bucket = weights[dimension]
            bucket[value] = bucket.get(value, 0.0) + rule.points
    profile = {}
    for dimension, bucket in weights.items():
        total = sum(bucket.values())
        if total:
            profile[dimension] = {value: weight / total for value, weight in sorted(bucket.items())}
    return profile or None


def _profile_values(field_name: str, operator: str, value, title_function, size_bands) -> list[tuple[str, str]]:
    """(dimension, value) pairs one fit rule targets, in the reports' vocabulary."""
    if field_name == "industry" and operator == "in":
        return [("industry", str(v).strip().lower()) for v in value or [] if str(v).strip()]
    if field_name == "employee_count" and operator == "between":
        low, high = (list(value or []) + [None, None])[:2]
        low = 1 if low is None else low
        return [
            ("size", band)
            for band, band_low, band_high in size_bands
            if (high is None or band_low <= high) and (band_high is None or low <= band_high)
        ]
    if field_name == "job_title":
        # "contains" lists words; "matches" is a pattern whose alternatives are words too.
        words = value if isinstance(value, list) else re.split(r"[|()]", str(value or ""))
        functions = {title_function(re.sub(r"[^\w ]", " ", str(word)).strip()) for word in words}
        return [("title", f) for f in sorted(functions - {"other", "unknown"})]
    return []
