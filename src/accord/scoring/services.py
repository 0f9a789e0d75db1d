"""Writes for scoring: model versions and their approval, and the scores they give contacts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max

from accord.campaigns.models import Campaign
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.core.permissions import Perm, require_perm
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, StageChange
from accord.crm.services import contact_change_stage
from accord.scoring.engine import DEFAULT_BATCH, ModelSpec, Scored, score_contacts
from accord.scoring.models import (
    ContactScore,
    ModelStatus,
    ScoreHistory,
    ScoringApproval,
    ScoringAudit,
    ScoringComment,
    ScoringModel,
    ScoringRule,
)
from accord.scoring.queries import active_model_get
from accord.scoring.rules import RuleErrors, check_rules, check_settings

DEFAULT_GRADE_BANDS = {"A": 60, "B": 40, "C": 20}
# Stages a score may lift to MQL. Recycled leads qualify again only by crossing the line anew.
_MQL_ELIGIBLE = frozenset({Stage.SUBSCRIBER, Stage.LEAD, Stage.RECYCLED})


def _audit(model: ScoringModel, actor, action: str, **detail) -> None:
    ScoringAudit.objects.create(model=model, actor=actor, action=action, detail=detail, at=now())


def _require_editable(model: ScoringModel) -> None:
    if not model.is_editable:
        raise ValidationFailed.single(
            "status", f"{model} is {model.get_status_display().lower()}; make a new draft from it to change the rules"
        )


def _check_model(*, rules: list[dict], grade_bands, mql_min_grade, mql_min_score):
    errors: dict[str, str] = {}
    checked_rules = checked_settings = None
    campaigns = {
        int(c)
        for rule in rules
        if isinstance(rule.get("value"), dict)
        for c in (rule["value"].get("campaigns") or [])
        if str(c).strip().isdigit()
    }
    known = set(Campaign.objects.filter(pk__in=campaigns).values_list("pk", flat=True)) if campaigns else set()
    try:
        checked_rules = check_rules(rules, known_campaigns=known)
    except RuleErrors as failed:
        errors.update(failed.errors)
    try:
        checked_settings = check_settings(grade_bands=grade_bands, mql_min_grade=mql_min_grade, mql_min_score=mql_min_score)
    except RuleErrors as failed:
        errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    return checked_rules, checked_settings


def scoring_model_create(
    *,
    actor,
    name: str,
    description: str = "",
    based_on: ScoringModel | None = None,
    rules: list[dict] | None = None,
    grade_bands: dict | None = None,
    mql_min_grade: str | None = None,
    mql_min_score: int | None = None,
) -> ScoringModel:
    """A new draft: a copy of ``based_on`` (a new version of it) or the given rules."""
    require_perm(actor, Perm.MANAGE_SCORING)
    name = (name or "").strip() or (based_on.name if based_on else "")
    if not name:
        raise ValidationFailed.single("name", "a model needs a name")
    if len(name) > 120:
        raise ValidationFailed.single("name", "is longer than 120 characters")
    if based_on is not None and rules is None:
        rules = [rule_as_dict(r) for r in based_on.rules.all()]
    source = based_on
    checked_rules, (bands, grade, score) = _check_model(
        rules=rules or [],
        grade_bands=grade_bands or (source.grade_bands if source else DEFAULT_GRADE_BANDS),
        mql_min_grade=mql_min_grade or (source.mql_min_grade if source else "B"),
        mql_min_score=mql_min_score if mql_min_score is not None else (source.mql_min_score if source else 50),
    )
    moment = now()
    with transaction.atomic():
        version = (ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        model = ScoringModel.objects.create(
            name=name,
            version=version,
            description=(description or (source.description if source else "")).strip(),
            based_on=based_on,
            grade_bands=bands,
            mql_min_grade=grade,
            mql_min_score=score,
            created_by=actor,
            created_at=moment,
            updated_at=moment,
        )
        _replace_rules(model, checked_rules)
        _audit(model, actor, "created", based_on=based_on.pk if based_on else None, rules=len(checked_rules))
    return model


def rule_as_dict(rule: ScoringRule) -> dict:
    data = {
        "kind": rule.kind,
        "label": rule.label,
        "field": rule.field,
        "operator": rule.operator,
        "value": rule.value,
        "points": rule.points,
    }
    if rule.kind == "engagement":
        data["cap"] = rule.cap
        data["half_life_days"] = rule.half_life_days
    return data


def _replace_rules(model: ScoringModel, checked_rules) -> None:
    model.rules.all().delete()
    ScoringRule.objects.bulk_create(
        [
            ScoringRule(
                model=model,
                position=position,
                kind=rule.kind,
                label=rule.label,
                field=rule.field,
                operator=rule.operator,
                value=rule.value,
                points=rule.points,
                cap=rule.cap,
                half_life_days=rule.half_life_days,
            )
            for position, rule in enumerate(checked_rules)
        ]
    )


def scoring_model_save(
    *,
    model: ScoringModel,
    actor,
    name: str,
    description: str,
    rules: list[dict],
    grade_bands: dict,
    mql_min_grade: str,
    mql_min_score,
) -> ScoringModel:
    """Replace a draft's or proposal's rules and settings. Editing a proposal voids its approvals."""
    require_perm(actor, Perm.MANAGE_SCORING)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "a model needs a name")
    checked_rules, (bands, grade, score) = _check_model(
        rules=rules, grade_bands=grade_bands, mql_min_grade=mql_min_grade, mql_min_score=mql_min_score
    )
    with transaction.atomic():
        model = ScoringModel.objects.select_for_update().get(pk=model.pk)
        _require_editable(model)
        before = {
            "rules": [rule_as_dict(r) for r in model.rules.all()],
            "grade_bands": model.grade_bands,
            "mql_min_grade": model.mql_min_grade,
            "mql_min_score": model.mql_min_score,
            "name": model.name,
        }
        after = {
            "rules": [r.as_dict() for r in checked_rules],
            "grade_bands": bands,
            "mql_min_grade": grade,
            "mql_min_score": score,
            "name": name,
        }
        changed = sorted(key for key in after if before[key] != after[key])
        if not changed and (description or "").strip() == model.description:
            return model
        model.name, model.description = name[:120], (description or "").strip()
        model.grade_bands, model.mql_min_grade, model.mql_min_score = bands, grade, score
        model.updated_at = now()
        model.save(update_fields=["name", "description", "grade_bands", "mql_min_grade", "mql_min_score", "updated_at"])
        if "rules" in changed:
            _replace_rules(model, checked_rules)
        _audit(model, actor, "edited", changed=changed or ["description"], rules=len(checked_rules))
        if model.status == ModelStatus.PROPOSED:
            voided = list(model.approvals.values_list("user__username", flat=True))
            if voided:
                model.approvals.all().delete()
                _audit(model, actor, "approvals voided", by_edit=True, approvers=voided)
    return model


def scoring_model_propose(*, model: ScoringModel, actor) -> ScoringModel:
    require_perm(actor, Perm.MANAGE_SCORING)
    with transaction.atomic():
        model = ScoringModel.objects.select_for_update().get(pk=model.pk)
        if model.status != ModelStatus.DRAFT:
            raise ValidationFailed.single("status", f"only a draft can be proposed; {model} is {model.status}")
        spec_check(model)
        if not model.rules.exists():
            raise ValidationFailed.single("rules", "a model needs at least one rule before it is proposed")
        model.status = ModelStatus.PROPOSED
        model.proposed_at = model.updated_at = now()
        model.save(update_fields=["status", "proposed_at", "updated_at"])
        _audit(model, actor, "proposed")
    return model


def scoring_model_withdraw(*, model: ScoringModel, actor) -> ScoringModel:
    """Back to draft; any approvals are voided."""
    require_perm(actor, Perm.MANAGE_SCORING)
    with transaction.atomic():
        model = ScoringModel.objects.select_for_update().get(pk=model.pk)
        if model.status != ModelStatus.PROPOSED:
            raise ValidationFailed.single("status", f"only a proposal can be withdrawn; {model} is {model.status}")
        model.approvals.all().delete()
        model.status = ModelStatus.DRAFT
        model.updated_at = now()
        model.save(update_fields=["status", "updated_at"])
        _audit(model, actor, "withdrawn")
    return model


def spec_check(model: ScoringModel) -> ModelSpec:
    """The model's spec, re-checked; a rule that no longer passes is reported, never scored with."""
    try:
        return ModelSpec.of(model)
    except RuleErrors as failed:
        raise ValidationFailed(failed.errors) from None


@dataclass
class ApprovalOutcome:
    model: ScoringModel
    approval: ScoringApproval
    activated: bool
    rescore: "RescoreSummary | None" = None


def scoring_model_approve(*, model: ScoringModel, actor) -> ApprovalOutcome:
    """Approve for the approver's own team. With both sides in, the version goes live."""
    require_perm(actor, Perm.APPROVE_SCORING)
    side = actor.team
    if side not in Team.values:
        raise PermissionDenied("Only a member of the Marketing or Sales team can approve a scoring model.")
    with transaction.atomic():
        model = ScoringModel.objects.select_for_update().get(pk=model.pk)
        if model.status != ModelStatus.PROPOSED:
            raise ValidationFailed.single("status", f"only a proposed version can be approved; {model} is {model.status}")
        existing = {a.side: a for a in model.approvals.select_related("user")}
        if any(a.user_id == actor.pk for a in existing.values()):
            raise ValidationFailed.single("approval", "you have already approved this version; the other side must approve it")
        if side in existing:
            raise ValidationFailed.single(
                "approval", f"{Team(side).label} has already approved this version (by {existing[side].user.display_name})"
            )
        approval = ScoringApproval.objects.create(model=model, user=actor, side=side, approved_at=now())
        _audit(model, actor, "approved", side=side)
        both = len(existing) + 1 == len(Team.values)
        if both:
            _activate(model, actor)
    outcome = ApprovalOutcome(model=model, approval=approval, activated=both)
    if both:
        outcome.rescore = scores_rescore(model=model)
    return outcome


def _activate(model: ScoringModel, actor) -> None:
    """Retire the live version and put this one live, in the caller's transaction."""
    spec_check(model)
    sides = set(model.approvals.values_list("side", flat=True))
    if sides != set(Team.values):
        raise ValidationFailed.single("approval", "a version goes live only with one Marketing and one Sales approval")
    moment = now()
    for current in ScoringModel.objects.select_for_update().filter(status=ModelStatus.ACTIVE):
        current.status = ModelStatus.RETIRED
        current.retired_at = current.updated_at = moment
        current.save(update_fields=["status", "retired_at", "updated_at"])
        _audit(current, actor, "retired", replaced_by=model.pk)
    model.status = ModelStatus.ACTIVE
    model.activated_at = model.updated_at = moment
    model.save(update_fields=["status", "activated_at", "updated_at"])
    _audit(model, actor, "activated")


def scoring_comment_add(*, model: ScoringModel, actor, body: str) -> ScoringComment:
    require_perm(actor, Perm.VIEW_RECORDS)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed.single("body", "a comment needs some text")
    if len(body) > 5000:
        raise ValidationFailed.single("body", "is longer than 5000 characters")
    comment = ScoringComment.objects.create(model=model, author=actor, body=body, created_at=now())
    _audit(model, actor, "commented", comment=comment.pk)
    return comment


# --- rescoring -------------------------------------------------------------------------


@dataclass
class RescoreSummary:
    scored: int = 0
    changed: int = 0
    moved_to_mql: list[int] = field(default_factory=list)
    # Time spent moving contacts to MQL (one lifecycle move each, through crm).
    seconds_moving: float = 0.0
    # Time spent computing scores (SQL aggregates and rules) and writing them.
    seconds_scoring: float = 0.0
    seconds_writing: float = 0.0
    # contact id → (score, grade), kept only for incremental runs (bounded by their size).
    results: dict[int, tuple[int, str]] = field(default_factory=dict)


def active_model() -> ScoringModel | None:
    return active_model_get()


def scores_rescore(
    *,
    model: ScoringModel | None = None,
    contact_ids: Iterable[int] | None = None,
    moment: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> RescoreSummary:
    """Score contacts under the active model (every contact, or only ``contact_ids``), set-wise.

    Writes each contact's score row and, where the score or grade changed, the contact's
    columns and a history point. A contact crossing the MQL line moves to MQL.
    """
    model = model or active_model()
    summary = RescoreSummary()
    if model is None or model.status != ModelStatus.ACTIVE:
        return summary
    spec = ModelSpec.of(model)
    moment = moment or now()
    keep = contact_ids is not None
    batches = score_contacts(spec, moment=moment, contact_ids=contact_ids, batch_size=batch_size)
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        summary.seconds_scoring += time.perf_counter() - started
        if batch is None:
            break
        started = time.perf_counter()
        with transaction.atomic():
            _apply(spec, model, batch, moment, summary)
        summary.seconds_writing += time.perf_counter() - started
        if keep:
            summary.results.update({s.contact_id: (s.score, s.grade) for s in batch})
    return summary


def _apply(spec: ModelSpec, model: ScoringModel, batch: list[Scored], moment: datetime, summary: RescoreSummary) -> None:
    """Write one batch with a fixed number of statements (plain SQL: the ORM's per-value work
    would cost more than the scoring itself on a whole base)."""
    scores = ContactScore._meta.db_table
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    stamp = ContactScore._meta.get_field("computed_at").get_db_prep_value(moment, connection)
    columns = ("model_id", "score", "grade", "fit_points", "engagement_points", "qualified", "breakdown", "computed_at")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {scores} (contact_id, {', '.join(columns)}) VALUES (%s, %s, %s, %s, %s, %s, %s, {json_param}, %s)"
            f" ON CONFLICT (contact_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)}",
            [
                (s.contact_id, model.pk, s.score, s.grade, s.fit_points, s.engagement_points, s.qualified,
                 json.dumps(s.breakdown, separators=(",", ":")), stamp)
                for s in batch
            ],
        )
        changed = [s for s in batch if s.score != s.old_score or s.grade != s.old_grade]
        if changed:
            cursor.executemany(
                f"UPDATE {Contact._meta.db_table} SET score = %s, grade = %s WHERE id = %s",
                [(s.score, s.grade, s.contact_id) for s in changed],
            )
            cursor.executemany(
                f"INSERT INTO {ScoreHistory._meta.db_table} (contact_id, model_id, score, grade, recorded_at) VALUES (%s, %s, %s, %s, %s)",
                [(s.contact_id, model.pk, s.score, s.grade, stamp) for s in changed],
            )
    summary.scored += len(batch)
    summary.changed += len(changed)
    crossing = [s for s in batch if s.qualified and s.old_qualified is not True and s.stage in _MQL_ELIGIBLE]
    if crossing:
        started = time.perf_counter()
        by_id = {s.contact_id: s for s in crossing}
        for contact in Contact.objects.filter(pk__in=by_id, lifecycle_stage__in=_MQL_ELIGIBLE):
            s = by_id[contact.pk]
            contact_change_stage(
                contact=contact,
                to_stage=Stage.MQL,
                reason=(
                    f"score {s.score} (grade {s.grade}) crossed the MQL line of {model}: "
                    f"grade {spec.mql_min_grade} or better and {spec.mql_min_score}+ points"
                ),
                source=StageChange.Source.SCORING,
                at=moment,
            )
            summary.moved_to_mql.append(contact.pk)
        summary.seconds_moving += time.perf_counter() - started


def scoring_model_from_suggestion(*, actor, name: str = "") -> ScoringModel:
    """A new draft whose rules carry the weights fitted on won and lost deals. It goes live only
    through the same proposal and two approvals as any other version."""
    from accord.scoring.suggest import suggested_rules, suggestion_fit

    require_perm(actor, Perm.MANAGE_SCORING)
    suggestion = suggestion_fit()
    rules, bands = suggested_rules(suggestion)
    if not rules:
        raise ValidationFailed.single("suggestion", suggestion.message or "no attribute predicts winning strongly enough")
    current = active_model()
    model = scoring_model_create(
        actor=actor,
        name=name or "Suggested from outcomes",
        description=f"Fitted on {suggestion.examples} closed deals ({suggestion.won} won) by logistic regression.",
        rules=rules,
        grade_bands=bands,
        mql_min_grade=current.mql_min_grade if current else "B",
        mql_min_score=current.mql_min_score if current else 50,
    )
    _audit(model, actor, "suggested", examples=suggestion.examples, won=suggestion.won)
    return model
