"""Scoring pages: model list, editor, proposal (approvals, comments, audit), comparison and
backtest, suggestions, and the score panel of a contact."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from accord.campaigns.models import Channel, TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.core.permissions import Perm, has_perm, require_perm
from accord.scoring import analysis, queries, services, suggest
from accord.scoring.models import GRADES, ModelStatus, RuleKind
from accord.scoring.rules import FIELD_LABELS, PROFILE_FIELDS

BLANK_ROWS = 2


@login_required
def model_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    models = list(queries.models_list()[:100])
    return render(
        request,
        "scoring/model_list.html",
        {
            "models": models,
            "active": next((m for m in models if m.status == ModelStatus.ACTIVE), None),
            "can_manage": has_perm(request.user, Perm.MANAGE_SCORING),
        },
    )


@login_required
@require_POST
def model_create(request):
    require_perm(request.user, Perm.MANAGE_SCORING)
    based_on = None
    if request.POST.get("based_on"):
        try:
            based_on = queries.model_get(int(request.POST["based_on"]))
        except ValueError:
            messages.error(request, "based_on: is not a model id")
            return redirect("scoring:list")
    try:
        model = services.scoring_model_create(
            actor=request.user, name=request.POST.get("name", ""), based_on=based_on
        )
    except ValidationFailed as failed:
        for name, message in failed.errors.items():
            messages.error(request, f"{name}: {message}")
        return redirect("scoring:list")
    messages.success(request, f"Draft {model} created.")
    return redirect("scoring:edit", model_id=model.pk)


def _value_text(rule: dict) -> str:
    value = rule.get("value")
    if rule.get("operator") == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
        return "-".join("" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ""
    return "" if value is None else str(value)


def _row(rule: dict, index: int, errors: dict[str, str]) -> dict:
    value = rule.get("value") if isinstance(rule.get("value"), dict) else {}
    return {
        "index": index,
        "kind": rule.get("kind", ""),
        "label": rule.get("label", ""),
        "field": rule.get("field", ""),
        "operator": rule.get("operator", ""),
        "value_text": rule.get("value_text", _value_text(rule)),
        "points": "" if rule.get("points") is None else rule.get("points"),
        "cap": "" if rule.get("cap") is None else rule.get("cap"),
        "half_life_days": "" if rule.get("half_life_days") is None else rule.get("half_life_days"),
        "kinds": ", ".join(value.get("kinds", [])) if isinstance(value.get("kinds"), list) else value.get("kinds", ""),
        "channels": ", ".join(value.get("channels", [])) if isinstance(value.get("channels"), list) else value.get("channels", ""),
        "campaigns": ", ".join(str(c) for c in value.get("campaigns", [])) if isinstance(value.get("campaigns"), list) else value.get("campaigns", ""),
        "url": value.get("url", ""),
        "errors": {key.split(".", 2)[2]: message for key, message in errors.items() if key.startswith(f"rules.{index}.")},
    }


def _rules_from_post(post) -> list[dict]:
    try:
        count = min(int(post.get("rule_count", "0")), 200)
    except ValueError:
        count = 0
    rules = []
    for n in range(count):
        get = lambda name, n=n: (post.get(f"rule-{n}-{name}") or "").strip()  # noqa: E731
        if get("delete"):
            continue
        kind = get("kind")
        if not kind and not get("label") and not get("value") and not get("points"):
            continue  # an untouched blank row
        rule = {"kind": kind, "label": get("label"), "points": get("points")}
        if kind == RuleKind.ENGAGEMENT:
            rule["value"] = {key: get(key) for key in ("kinds", "channels", "campaigns", "url") if get(key)}
            rule["cap"] = get("cap")
            rule["half_life_days"] = get("half_life_days")
            rule["field"], rule["operator"] = "touchpoint", "matches"
        else:
            rule["field"], rule["operator"] = get("field"), get("operator")
            rule["value"] = get("value")
            rule["value_text"] = get("value")
        rules.append(rule)
    return rules


def _editor_context(model, *, form: dict, rules: list[dict], errors: dict[str, str]) -> dict:
    rows = [_row(rule, index, errors) for index, rule in enumerate(rules)]
    rows += [_row({}, len(rows) + n, {}) for n in range(BLANK_ROWS)]
    return {
        "model": model,
        "form": form,
        "rows": rows,
        "errors": {k: v for k, v in errors.items() if not k.startswith("rules.")},
        "rule_errors": [v for k, v in errors.items() if k.startswith("rules.")],
        "kinds": RuleKind.choices,
        "fields": [(name, FIELD_LABELS[name], ", ".join(ops)) for name, ops in PROFILE_FIELDS.items()],
        "operators": sorted({op for ops in PROFILE_FIELDS.values() for op in ops}),
        "touch_kinds": TouchpointKind.values,
        "channels": Channel.values,
        "grades": GRADES,
    }


@login_required
def model_edit(request, model_id: int):
    require_perm(request.user, Perm.MANAGE_SCORING)
    model = queries.model_get(model_id)
    if not model.is_editable:
        messages.error(request, f"{model} is {model.get_status_display().lower()}; make a new draft from it to change it.")
        return redirect("scoring:detail", model_id=model.pk)
    if request.method == "POST":
        rules = _rules_from_post(request.POST)
        form = {
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "grade_bands": {g: request.POST.get(f"band_{g}", "") for g in GRADES[:3]},
            "mql_min_grade": request.POST.get("mql_min_grade", ""),
            "mql_min_score": request.POST.get("mql_min_score", ""),
        }
        try:
            voided = model.status == ModelStatus.PROPOSED and model.approvals.exists()
            services.scoring_model_save(model=model, actor=request.user, rules=rules, **form)
        except ValidationFailed as failed:
            context = _editor_context(model, form=form, rules=rules, errors=failed.errors)
            return render(request, "scoring/model_edit.html", context, status=422)
        messages.success(request, "Saved." + (" The approvals were voided by the change." if voided else ""))
        if request.POST.get("then") == "add":
            return redirect("scoring:edit", model_id=model.pk)
        return redirect("scoring:detail", model_id=model.pk)
    form = {
        "name": model.name,
        "description": model.description,
        "grade_bands": model.grade_bands,
        "mql_min_grade": model.mql_min_grade,
        "mql_min_score": model.mql_min_score,
    }
    rules = [services.rule_as_dict(r) for r in model.rules.all()]
    return render(request, "scoring/model_edit.html", _editor_context(model, form=form, rules=rules, errors={}))


@login_required
def model_detail(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    model = queries.model_get(model_id)
    approvals = {a.side: a for a in model.approvals.all()}
    user = request.user
    can_approve = (
        model.status == ModelStatus.PROPOSED
        and has_perm(user, Perm.APPROVE_SCORING)
        and user.team in Team.values
        and user.team not in approvals
        and all(a.user_id != user.pk for a in approvals.values())
    )
    return render(
        request,
        "scoring/model_detail.html",
        {
            "model": model,
            "rules": list(model.rules.all()),
            "approvals": [(label, approvals.get(value)) for value, label in Team.choices],
            "can_approve": can_approve,
            "can_manage": has_perm(user, Perm.MANAGE_SCORING),
            "audit": queries.model_audit(model),
            "comments": list(model.comments.all()),
        },
    )


def _act(request, model_id: int, action) -> HttpResponse:
    model = queries.model_get(model_id)
    try:
        result = action(model)
    except ValidationFailed as failed:
        for name, message in failed.errors.items():
            messages.error(request, f"{name}: {message}")
    else:
        if result:
            messages.success(request, result)
    return redirect("scoring:detail", model_id=model_id)


@login_required
@require_POST
def model_propose(request, model_id: int):
    require_perm(request.user, Perm.MANAGE_SCORING)
    return _act(request, model_id, lambda m: services.scoring_model_propose(model=m, actor=request.user) and "Proposed for approval.")


@login_required
@require_POST
def model_withdraw(request, model_id: int):
    require_perm(request.user, Perm.MANAGE_SCORING)
    return _act(request, model_id, lambda m: services.scoring_model_withdraw(model=m, actor=request.user) and "Withdrawn to draft.")


@login_required
@require_POST
def model_approve(request, model_id: int):
    require_perm(request.user, Perm.APPROVE_SCORING)

    def approve(model):
        outcome = services.scoring_model_approve(model=model, actor=request.user)
        if outcome.activated:
            r = outcome.rescore
            return f"Approved. {model} is now active: {r.scored} contacts rescored, {r.changed} changed, {len(r.moved_to_mql)} became MQL."
        return f"Approved for {request.user.get_team_display()}; waiting for the other side."

    return _act(request, model_id, approve)


@login_required
@require_POST
def model_comment(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _act(
        request,
        model_id,
        lambda m: services.scoring_comment_add(model=m, actor=request.user, body=request.POST.get("body", "")) and "Comment added.",
    )


@login_required
def model_compare(request, model_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    model = queries.model_get(model_id)
    active = queries.active_model_get()
    moment = now()
    comparison = analysis.models_compare(proposed=model, active=active if active and active.pk != model.pk else None, moment=moment)
    backtest = analysis.model_backtest(model=model, moment=moment)
    active_backtest = analysis.model_backtest(model=active, moment=moment) if active and active.pk != model.pk else None
    side_by_side = []
    for index, row in enumerate(backtest.by_band):
        side_by_side.append((row, active_backtest.by_band[index] if active_backtest else None))
    grades = [(row, active_backtest.by_grade[i] if active_backtest else None) for i, row in enumerate(backtest.by_grade)]
    return render(
        request,
        "scoring/model_compare.html",
        {
            "model": model,
            "active": active if active and active.pk != model.pk else None,
            "comparison": comparison,
            "backtest": backtest,
            "active_backtest": active_backtest,
            "bands": side_by_side,
            "grades": grades,
            "grade_counts": [(g, comparison.grade_counts[g]) for g in GRADES],
        },
    )


@login_required
def suggestions(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    if request.method == "POST":
        require_perm(request.user, Perm.MANAGE_SCORING)
        try:
            model = services.scoring_model_from_suggestion(actor=request.user)
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                messages.error(request, f"{name}: {message}")
            return redirect("scoring:suggestions")
        messages.success(request, f"Draft {model} created from the fitted weights. It needs a proposal and two approvals.")
        return redirect("scoring:detail", model_id=model.pk)
    result = suggest.suggestion_fit()
    rules, bands = suggest.suggested_rules(result)
    return render(
        request,
        "scoring/suggestions.html",
        {"result": result, "rules": rules, "bands": bands, "can_manage": has_perm(request.user, Perm.MANAGE_SCORING)},
    )


def contact_score_panel_html(request, contact) -> str:
    """The 360° page's score panel for one contact, rendered (for the CRM's panel registry)."""
    return render_to_string("scoring/_contact_score.html", {"panel": queries.contact_score_panel(contact)}, request=request)


@login_required
def contact_panel(request, contact_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    contact = queries.contact_for_score(contact_id)
    return HttpResponse(contact_score_panel_html(request, contact))
