"""Scoring API under /api/scoring: model versions, approvals, comparison, backtest, contact scores."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from accord.core.clock import now
from accord.core.permissions import Perm, require_perm
from accord.scoring import analysis, queries, services, suggest

router = Router(tags=["scoring"])


class RuleIn(Schema):
    kind: str
    label: str
    field: str = ""
    operator: str = ""
    value: object = None
    points: object = None
    cap: object = None
    half_life_days: object = None


class ModelIn(Schema):
    name: str
    description: str = ""
    rules: list[RuleIn] = []
    grade_bands: dict[str, object] = {"A": 60, "B": 40, "C": 20}
    mql_min_grade: str = "B"
    mql_min_score: object = 50


class NewModelIn(ModelIn):
    based_on: int | None = None
    rules: list[RuleIn] | None = None
    grade_bands: dict[str, object] | None = None
    mql_min_grade: str | None = None
    mql_min_score: object | None = None


class RuleOut(Schema):
    id: int
    kind: str
    label: str
    field: str
    operator: str
    value: object
    points: int
    cap: int | None
    half_life_days: float | None


class ApprovalOut(Schema):
    user: str
    side: str
    approved_at: datetime


class CommentOut(Schema):
    author: str | None
    body: str
    created_at: datetime


class ModelOut(Schema):
    id: int
    name: str
    version: int
    status: str
    description: str
    grade_bands: dict
    mql_min_grade: str
    mql_min_score: int
    created_at: datetime
    activated_at: datetime | None
    approvals: list[ApprovalOut]


class ModelDetailOut(ModelOut):
    rules: list[RuleOut]
    comments: list[CommentOut]


class AuditOut(Schema):
    action: str
    actor: str | None
    detail: dict
    at: datetime


class CommentIn(Schema):
    body: str


class ContactBrief(Schema):
    id: int
    name: str
    email: str


class ComparisonOut(Schema):
    contacts: int
    proposed_mql: int
    active_mql: int
    moved_in: int
    moved_out: int
    moved_in_sample: list[ContactBrief]
    moved_out_sample: list[ContactBrief]
    grade_counts: dict


class BacktestRowOut(Schema):
    label: str
    contacts: int
    opportunities: int
    won: int
    opportunity_rate: float
    won_rate: float


class BacktestOut(Schema):
    model_id: int
    contacts: int
    opportunities: int
    won: int
    auc: float | None
    by_band: list[BacktestRowOut]
    by_grade: list[BacktestRowOut]


class CoefficientOut(Schema):
    feature: str
    label: str
    coefficient: float
    odds_ratio: float
    support: int


class SuggestionOut(Schema):
    examples: int
    won: int
    intercept: float
    message: str
    coefficients: list[CoefficientOut]


class HistoryPointOut(Schema):
    recorded_at: datetime
    score: int
    grade: str


class ContactScoreOut(Schema):
    contact_id: int
    score: int
    grade: str
    model_id: int | None
    model: str | None
    fit_points: int | None
    engagement_points: int | None
    qualified: bool | None
    computed_at: datetime | None
    breakdown: list[dict]
    history: list[HistoryPointOut]


def _model_out(model) -> dict:
    return {
        "id": model.pk,
        "name": model.name,
        "version": model.version,
        "status": model.status,
        "description": model.description,
        "grade_bands": model.grade_bands,
        "mql_min_grade": model.mql_min_grade,
        "mql_min_score": model.mql_min_score,
        "created_at": model.created_at,
        "activated_at": model.activated_at,
        "approvals": [{"user": a.user.username, "side": a.side, "approved_at": a.approved_at} for a in model.approvals.all()],
    }


def _detail_out(model) -> dict:
    model = queries.model_get(model.pk)
    return {
        **_model_out(model),
        "rules": list(model.rules.all()),
        "comments": [
            {"author": c.author.username if c.author else None, "body": c.body, "created_at": c.created_at}
            for c in model.comments.all()
        ],
    }


def _rules(rules) -> list[dict]:
    return [rule.dict() for rule in rules]


@router.get("/models", response=list[ModelOut])
def list_models(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [_model_out(m) for m in queries.models_list()[:200]]


@router.post("/models", response={201: ModelDetailOut})
def create_model(request, payload: NewModelIn):
    require_perm(request.user, Perm.MANAGE_SCORING)
    based_on = queries.model_get(payload.based_on) if payload.based_on else None
    model = services.scoring_model_create(
        actor=request.user,
        name=payload.name,
        description=payload.description,
        based_on=based_on,
        rules=_rules(payload.rules) if payload.rules is not None else None,
        grade_bands=payload.grade_bands,
        mql_min_grade=payload.mql_min_grade,
        mql_min_score=payload.mql_min_score,
    )
    return 201, _detail_out(model)


@router.get("/models/{model_id}", response=ModelDetailOut)
def get_model(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _detail_out(queries.model_get(model_id))


@router.put("/models/{model_id}", response=ModelDetailOut)
def save_model(request, model_id: int, payload: ModelIn):
    require_perm(request.user, Perm.MANAGE_SCORING)
    model = services.scoring_model_save(
        model=queries.model_get(model_id),
        actor=request.user,
        name=payload.name,
        description=payload.description,
        rules=_rules(payload.rules),
        grade_bands=payload.grade_bands,
        mql_min_grade=payload.mql_min_grade,
        mql_min_score=payload.mql_min_score,
    )
    return _detail_out(model)


@router.post("/models/{model_id}/propose", response=ModelDetailOut)
def propose_model(request, model_id: int):
    require_perm(request.user, Perm.MANAGE_SCORING)
    return _detail_out(services.scoring_model_propose(model=queries.model_get(model_id), actor=request.user))


@router.post("/models/{model_id}/withdraw", response=ModelDetailOut)
def withdraw_model(request, model_id: int):
    require_perm(request.user, Perm.MANAGE_SCORING)
    return _detail_out(services.scoring_model_withdraw(model=queries.model_get(model_id), actor=request.user))


@router.post("/models/{model_id}/approve", response=ModelDetailOut)
def approve_model(request, model_id: int):
    require_perm(request.user, Perm.APPROVE_SCORING)
    outcome = services.scoring_model_approve(model=queries.model_get(model_id), actor=request.user)
    return _detail_out(outcome.model)


@router.post("/models/{model_id}/comments", response={201: CommentOut})
def add_comment(request, model_id: int, payload: CommentIn):
    require_perm(request.user, Perm.VIEW_RECORDS)
    comment = services.scoring_comment_add(model=queries.model_get(model_id), actor=request.user, body=payload.body)
    return 201, {"author": request.user.username, "body": comment.body, "created_at": comment.created_at}


@router.get("/models/{model_id}/audit", response=list[AuditOut])
def model_audit(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    rows = queries.model_audit(queries.model_get(model_id))
    return [{"action": r.action, "actor": r.actor.username if r.actor else None, "detail": r.detail, "at": r.at} for r in rows]


def _brief(contact) -> dict:
    return {"id": contact.pk, "name": str(contact), "email": contact.email}


@router.get("/models/{model_id}/comparison", response=ComparisonOut)
def compare_model(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    result = analysis.models_compare(proposed=queries.model_get(model_id), active=queries.active_model_get(), moment=now())
    return {
        **{k: getattr(result, k) for k in ("contacts", "proposed_mql", "active_mql", "moved_in", "moved_out", "grade_counts")},
        "moved_in_sample": [_brief(c) for c in result.moved_in_sample],
        "moved_out_sample": [_brief(c) for c in result.moved_out_sample],
    }


def _backtest_out(model, result) -> dict:
    def rows(items):
        return [
            {
                "label": r.label,
                "contacts": r.contacts,
                "opportunities": r.opportunities,
                "won": r.won,
                "opportunity_rate": r.opportunity_rate,
                "won_rate": r.won_rate,
            }
            for r in items
        ]

    return {
        "model_id": model.pk,
        "contacts": result.contacts,
        "opportunities": result.opportunities,
        "won": result.won,
        "auc": result.auc,
        "by_band": rows(result.by_band),
        "by_grade": rows(result.by_grade),
    }


@router.get("/models/{model_id}/backtest", response=BacktestOut)
def backtest_model(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    model = queries.model_get(model_id)
    return _backtest_out(model, analysis.model_backtest(model=model, moment=now()))


@router.get("/suggestions", response=SuggestionOut)
def suggestions(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    result = suggest.suggestion_fit()
    return {
        "examples": result.examples,
        "won": result.won,
        "intercept": result.intercept,
        "message": result.message,
        "coefficients": [
            {
                "feature": c.feature.key,
                "label": c.feature.label,
                "coefficient": c.coefficient,
                "odds_ratio": c.odds_ratio,
                "support": c.support,
            }
            for c in result.coefficients
        ],
    }


@router.post("/suggestions/draft", response={201: ModelDetailOut})
def suggestions_draft(request):
    require_perm(request.user, Perm.MANAGE_SCORING)
    model = services.scoring_model_from_suggestion(actor=request.user)
    return 201, _detail_out(model)


@router.get("/contacts/{contact_id}", response=ContactScoreOut)
def contact_score(request, contact_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    panel = queries.contact_score_panel(queries.contact_for_score(contact_id))
    detail = panel.detail
    return {
        "contact_id": panel.contact.pk,
        "score": panel.contact.score,
        "grade": panel.contact.grade,
        "model_id": detail.model_id if detail else None,
        "model": str(detail.model) if detail else None,
        "fit_points": detail.fit_points if detail else None,
        "engagement_points": detail.engagement_points if detail else None,
        "qualified": detail.qualified if detail else None,
        "computed_at": detail.computed_at if detail else None,
        "breakdown": detail.breakdown if detail else [],
        "history": [{"recorded_at": h.recorded_at, "score": h.score, "grade": h.grade} for h in panel.history],
    }
