"""Pages: the rep's queue, one handoff, the manager's SLA board, the compliance report, and
the policy and calendar editors. Thin: check the role, call one service or query, render."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accord.campaigns.models import Channel
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Role, Team, User
from accord.core.permissions import Perm, has_perm, require_perm
from accord.crm.lifecycle import Stage
from accord.handoff import queries, services
from accord.handoff.models import (
    PolicyKind,
    RejectReason,
    RoutingRule,
    Segment,
    SlaPolicy,
    WorkCalendar,
)
from accord.handoff.services import RESPONSE_KINDS

PAGE_SIZE = 50


def duration_label(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def with_clock(handoffs, at: datetime):
    """Attach what the queue shows: time left or how long overdue."""
    for handoff in handoffs:
        handoff.overdue = bool(handoff.due_at and handoff.due_at <= at and handoff.first_response_at is None and handoff.is_open)
        if handoff.due_at is None:
            handoff.clock = "no SLA"
        elif handoff.first_response_at is not None:
            handoff.clock = "responded " + ("in time" if handoff.first_response_at <= handoff.due_at else "late")
        elif handoff.overdue:
            handoff.clock = f"overdue by {duration_label(at - handoff.due_at)}"
        else:
            handoff.clock = f"{duration_label(handoff.due_at - at)} left"
    return handoffs


def _back(request, fallback: str):
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


def _refused(request, refused: ValidationFailed) -> None:
    for field_name, message in refused.errors.items():
        messages.error(request, f"{field_name.replace('_', ' ')}: {message}")


@login_required
def queue(request):
    if not has_perm(request.user, Perm.WORK_HANDOFFS):
        return redirect("handoff:report")
    owner_id = None
    raw_owner = request.GET.get("owner", "")
    if raw_owner and has_perm(request.user, Perm.VIEW_SLA_BOARD):
        owner_id = 0 if raw_owner == "unassigned" else int(raw_owner) if raw_owner.isdigit() else None
    page = Paginator(queries.handoff_queue(user=request.user, owner_id=owner_id), PAGE_SIZE).get_page(request.GET.get("page"))
    with_clock(page.object_list, now())
    return render(request, "handoff/queue.html", {
        "page": page, "reasons": RejectReason.choices, "default_reentry": (now() + timedelta(days=90)).date(),
        "owner_filter": raw_owner,
    })


@login_required
def detail(request, pk: int):
    handoff = queries.handoff_get_for(user=request.user, pk=pk)
    with_clock([handoff], now())
    reps = (
        User.objects.filter(is_active=True, role__in=[Role.SALES, Role.MANAGER]).order_by("first_name", "username")
        if has_perm(request.user, Perm.MANAGE_SLA) else []
    )
    return render(request, "handoff/detail.html", {
        "handoff": handoff, "events": queries.handoff_events(handoff=handoff), "reasons": RejectReason.choices,
        "default_reentry": (now() + timedelta(days=90)).date(), "reps": reps,
        "may_work": has_perm(request.user, Perm.WORK_HANDOFFS) and handoff.is_open
        and (handoff.owner_id in (None, request.user.pk) or has_perm(request.user, Perm.MANAGE_SLA)),
    })


def _action(request, pk: int, act) -> None:
    require_perm(request.user, Perm.WORK_HANDOFFS)
    handoff = queries.handoff_get_for(user=request.user, pk=pk)
    try:
        message = act(handoff)
    except ValidationFailed as refused:
        _refused(request, refused)
    else:
        messages.success(request, message)


@login_required
@require_POST
def log_attempt(request, pk: int):
    def act(handoff):
        kind = request.POST.get("kind", "call")
        services.handoff_log_attempt(handoff=handoff, actor=request.user, kind=kind, note=request.POST.get("note", ""))
        return f"Logged a {kind.replace('_', ' ')} with {handoff.contact}."
    _action(request, pk, act)
    return _back(request, "/handoffs/")


@login_required
@require_POST
def accept(request, pk: int):
    def act(handoff):
        services.handoff_accept(handoff=handoff, actor=request.user, note=request.POST.get("note", ""))
        return f"Accepted {handoff.contact}: now a sales-accepted lead."
    _action(request, pk, act)
    return _back(request, "/handoffs/")


@login_required
@require_POST
def reject(request, pk: int):
    def act(handoff):
        services.handoff_reject(handoff=handoff, actor=request.user, reason=request.POST.get("reason", ""),
                                note=request.POST.get("note", ""), reentry_on=request.POST.get("reentry_on") or None)
        return f"Rejected {handoff.contact} ({handoff.get_reject_reason_display()})."
    _action(request, pk, act)
    return _back(request, "/handoffs/")


@login_required
@require_POST
def recycle(request, pk: int):
    def act(handoff):
        services.handoff_recycle(handoff=handoff, actor=request.user, reason=request.POST.get("reason", ""),
                                 reentry_on=request.POST.get("reentry_on") or None, note=request.POST.get("note", ""))
        return f"{handoff.contact} goes back to nurturing until {handoff.reentry_on}."
    _action(request, pk, act)
    return _back(request, "/handoffs/")


@login_required
@require_POST
def reassign(request, pk: int):
    require_perm(request.user, Perm.MANAGE_SLA)
    handoff = queries.handoff_get_for(user=request.user, pk=pk)
    to_user = get_object_or_404(User, pk=request.POST.get("owner") or 0)
    try:
        services.handoff_reassign(handoff=handoff, actor=request.user, to_user=to_user)
    except ValidationFailed as refused:
        _refused(request, refused)
    else:
        messages.success(request, f"{handoff.contact} now belongs to {to_user.display_name}.")
    return _back(request, f"/handoffs/{pk}/")


@login_required
def board(request):
    require_perm(request.user, Perm.VIEW_SLA_BOARD)
    at = now()
    breached = Paginator(queries.breached_handoffs(), PAGE_SIZE).get_page(request.GET.get("page"))
    with_clock(breached.object_list, at)
    return render(request, "handoff/board.html", {"rows": queries.sla_board(at=at), "breached": breached})


@login_required
def report(request):
    require_perm(request.user, Perm.VIEW_REPORTS)
    group_by = request.GET.get("group_by", "rep")
    if group_by not in queries.GROUPINGS:
        group_by = "rep"
    months = request.GET.get("months", "3")
    months = int(months) if months.isdigit() and 1 <= int(months) <= 24 else 3
    start, end = queries.report_window(months=months)
    rows = queries.compliance_report(start=start, end=end, group_by=group_by)
    return render(request, "handoff/report.html", {
        "rows": rows, "total": queries.compliance_totals(rows), "group_by": group_by, "groupings": queries.GROUPINGS,
        "months": months, "start": start, "end": end - timedelta(days=1),
        "commitments": queries.commitments_report(start=start, end=end),
    })


# --- the agreement ------------------------------------------------------------------------------


@login_required
def policies(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return render(request, "handoff/policies.html", {
        "policies": SlaPolicy.objects.select_related("calendar").order_by("kind", "position", "id"),
        "calendars": WorkCalendar.objects.order_by("name"),
        "rules": RoutingRule.objects.prefetch_related("members__user").order_by("position", "id"),
        "may_edit": has_perm(request.user, Perm.MANAGE_SLA),
    })


def _policy_form_values(post) -> dict:
    values = {name: post.get(name, "") for name in (
        "name", "kind", "team", "position", "min_score", "max_score", "calendar", "target_hours", "warn_at_percent",
        "followup_attempts", "followup_days", "period", "mql_volume_target", "acceptance_rate_target")}
    for name in ("stages", "grades", "sources", "countries", "segments", "industries", "first_response_kinds"):
        values[name] = post.getlist(name) if name in ("stages", "sources", "segments", "first_response_kinds") else post.get(name, "")
    for name in ("is_active", "notify_manager_on_breach", "reassign_on_breach"):
        values[name] = post.get(name) == "on"
    return values


@login_required
def policy_edit(request, pk: int | None = None):
    require_perm(request.user, Perm.MANAGE_SLA)
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else None
    errors: dict[str, str] = {}
    values = {}
    if request.method == "POST":
        values = _policy_form_values(request.POST)
        try:
            saved = services.sla_policy_save(values=values, actor=request.user, policy=policy)
        except ValidationFailed as refused:
            errors = refused.errors
        else:
            messages.success(request, f"Saved the policy {saved.policy.name!r}.")
            for warning in saved.warnings:
                messages.warning(request, warning)
            return redirect("handoff:policies")
    shown = policy or SlaPolicy(kind=request.GET.get("kind", PolicyKind.RESPONSE))
    if values:  # show what was typed, not what is stored
        shown = SlaPolicy(pk=shown.pk, kind=values["kind"] or shown.kind)
        for name, value in values.items():
            if name == "calendar":
                shown.calendar_id = int(value) if str(value).isdigit() else None
            elif isinstance(value, str) and name in ("grades", "countries", "industries"):
                setattr(shown, name, [part.strip() for part in value.split(",") if part.strip()])
            else:
                setattr(shown, name, value)
    return render(request, "handoff/policy_form.html", {
        "policy": shown, "posted": values, "errors": errors, "calendars": WorkCalendar.objects.order_by("name"),
        "stages": Stage.choices, "channels": Channel.choices, "segments": Segment.choices, "teams": Team.choices,
        "kinds": PolicyKind.choices, "response_kinds": RESPONSE_KINDS,
    })


@login_required
def calendar_edit(request, pk: int | None = None):
    require_perm(request.user, Perm.MANAGE_SLA)
    calendar = get_object_or_404(WorkCalendar, pk=pk) if pk else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        hours = {}
        for day in range(7):
            spans = [span.strip() for span in request.POST.get(f"day{day}", "").split(",") if span.strip()]
            hours[str(day)] = [span.split("-", 1) if "-" in span else [span, ""] for span in spans]
        holidays = []
        for line in request.POST.get("holidays", "").splitlines():
            parts = [part.strip() for part in line.split(",")]
            if parts and parts[0]:
                holidays.append({"start": parts[0], "end": parts[1] if len(parts) > 1 and parts[1] else parts[0],
                                 "name": parts[2] if len(parts) > 2 else ""})
        try:
            saved = services.work_calendar_save(
                values={"name": request.POST.get("name", ""), "time_zone": request.POST.get("time_zone", ""),
                        "working_hours": hours, "holidays": holidays},
                calendar=calendar,
            )
        except ValidationFailed as refused:
            errors = refused.errors
        else:
            messages.success(request, f"Saved the calendar {saved.name!r}.")
            return redirect("handoff:policies")
    days = []
    from accord.core.business_time import WEEKDAY_NAMES

    for day, name in enumerate(WEEKDAY_NAMES):
        if request.method == "POST":
            value = request.POST.get(f"day{day}", "")
        elif calendar:
            value = ", ".join(f"{a}-{b}" for a, b in calendar.working_hours.get(str(day), []))
        else:
            value = "09:00-17:00" if day < 5 else ""
        days.append((day, name, value))
    holidays_text = request.POST.get("holidays", "") if request.method == "POST" else "\n".join(
        f"{h['start']}, {h['end']}, {h.get('name', '')}" for h in (calendar.holidays if calendar else [])
    )
    return render(request, "handoff/calendar_form.html", {
        "calendar": calendar, "days": days, "holidays_text": holidays_text, "errors": errors,
        "name": request.POST.get("name", calendar.name if calendar else ""),
        "time_zone": request.POST.get("time_zone", calendar.time_zone if calendar else "UTC"),
    })


def contact_panel(contact, user):
    """The handoff section of the 360° page (registered with crm.panels)."""
    if not has_perm(user, Perm.VIEW_RECORDS):
        return None
    handoffs = with_clock(queries.handoffs_for_contact(contact_id=contact.pk), now())
    if not handoffs:
        return None
    current = handoffs[0]
    return {
        "handoffs": handoffs, "current": current, "reasons": RejectReason.choices,
        "default_reentry": (now() + timedelta(days=90)).date(),
        "may_work": current.is_open and has_perm(user, Perm.WORK_HANDOFFS)
        and (current.owner_id in (None, user.pk) or has_perm(user, Perm.MANAGE_SLA)),
    }



def home_panel(user):
    """"My handoffs" on everyone's home page: what is open and what is late, the next five."""
    if not has_perm(user, Perm.WORK_HANDOFFS):
        return None
    at = now()
    queue = queries.handoff_queue(user=user)
    upcoming = with_clock(list(queue[:5]), at)
    if not upcoming:
        return None
    counts = queries.queue_counts(user=user, at=at)
    return {"handoffs": upcoming, **counts}
