"""/api/handoffs: the rep's queue and actions, the board, the report, policies and calendars."""

from __future__ import annotations

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from accord.core.errors import ValidationFailed
from accord.core.models import User
from accord.core.permissions import Perm, require_perm
from accord.handoff import queries, services
from accord.handoff.models import RoutingRule, SlaPolicy, WorkCalendar

router = Router(tags=["handoff"])
MAX_PAGE = 200


class HandoffOut(Schema):
    id: int
    contact_id: int
    contact_name: str
    contact_email: str
    status: str
    owner_id: int | None
    owner_name: str | None
    policy_id: int | None
    policy_name: str | None
    routing_reason: str
    source: str
    opened_at: datetime
    warn_at: datetime | None
    due_at: datetime | None
    first_response_at: datetime | None
    attempts: int
    breached: bool
    reject_reason: str
    recycle_reason: str
    reentry_on: date | None
    note: str
    loop: int
    closed_at: datetime | None

    @staticmethod
    def from_handoff(h) -> "HandoffOut":
        return HandoffOut(
            id=h.pk, contact_id=h.contact_id, contact_name=str(h.contact), contact_email=h.contact.email,
            status=h.status, owner_id=h.owner_id, owner_name=h.owner.display_name if h.owner_id else None,
            policy_id=h.policy_id, policy_name=h.policy.name if h.policy_id else None,
            routing_reason=h.routing_reason, source=h.source, opened_at=h.opened_at, warn_at=h.warn_at,
            due_at=h.due_at, first_response_at=h.first_response_at, attempts=h.attempts, breached=h.breached,
            reject_reason=h.reject_reason, recycle_reason=h.recycle_reason, reentry_on=h.reentry_on, note=h.note,
            loop=h.loop, closed_at=h.closed_at,
        )


class HandoffPage(Schema):
    count: int
    items: list[HandoffOut]


class AttemptIn(Schema):
    kind: str = "call"
    note: str = Field("", max_length=5000)


class AcceptIn(Schema):
    note: str = Field("", max_length=5000)


class RejectIn(Schema):
    reason: str = ""
    note: str = Field("", max_length=5000)
    reentry_on: str | None = None


class RecycleIn(Schema):
    reason: str = Field("", max_length=300)
    reentry_on: str | None = None
    note: str = Field("", max_length=5000)


class ReassignIn(Schema):
    owner_id: int


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed.single("limit", f"must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValidationFailed.single("offset", "must not be negative")
    return limit, offset


@router.get("/", response=HandoffPage, summary="The queue: my open handoffs (managers: anyone's)")
def list_handoffs(request, status: str = "open", owner_id: int | None = None, limit: int = 50, offset: int = 0):
    require_perm(request.user, Perm.VIEW_RECORDS)
    limit, offset = _page(limit, offset)
    qs = queries.handoff_queue(user=request.user, owner_id=owner_id, status=status)
    return {"count": qs.count(), "items": [HandoffOut.from_handoff(h) for h in qs[offset : offset + limit]]}


@router.get("/report", summary="Compliance per rep, team, source or month, and Marketing's commitments")
def report(request, group_by: str = "rep", months: int = 3):
    require_perm(request.user, Perm.VIEW_REPORTS)
    if group_by not in queries.GROUPINGS:
        raise ValidationFailed.single("group_by", f"use one of {', '.join(queries.GROUPINGS)}")
    if not 1 <= months <= 24:
        raise ValidationFailed.single("months", "must be between 1 and 24")
    start, end = queries.report_window(months=months)
    rows = queries.compliance_report(start=start, end=end, group_by=group_by)
    return {
        "start": start, "end": end, "group_by": group_by,
        "rows": [row.as_dict() for row in rows],
        "total": queries.compliance_totals(rows).as_dict(),
        "commitments": [row.as_dict() for row in queries.commitments_report(start=start, end=end)],
    }


@router.get("/board", summary="The manager's SLA board: per rep open, overdue, due soon, breached")
def board(request):
    require_perm(request.user, Perm.VIEW_SLA_BOARD)
    return {"reps": [row.__dict__ for row in queries.sla_board()]}


# --- policies and calendars ----------------------------------------------------------------------


class CalendarIn(Schema):
    name: str = Field(..., max_length=100)
    time_zone: str = Field("UTC", max_length=64)
    working_hours: dict[str, list[list[str]]]
    holidays: list[dict] = []


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    working_hours: dict
    holidays: list


class PolicyIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str = "response"
    is_active: bool = True
    position: int = 100
    team: str | None = None
    stages: list[str] = []
    grades: list[str] = []
    min_score: int | None = None
    max_score: int | None = None
    sources: list[str] = []
    countries: list[str] = []
    segments: list[str] = []
    industries: list[str] = []
    calendar_id: int | None = None
    target_hours: float | None = None
    first_response_kinds: list[str] = []
    followup_attempts: int = 0
    followup_days: int = 0
    warn_at_percent: int = 75
    notify_manager_on_breach: bool = True
    reassign_on_breach: bool = False
    period: str = "month"
    mql_volume_target: int | None = None
    acceptance_rate_target: int | None = None


class PolicyOut(Schema):
    id: int
    name: str
    kind: str
    is_active: bool
    position: int
    team: str
    stages: list
    grades: list
    min_score: int | None
    max_score: int | None
    sources: list
    countries: list
    segments: list
    industries: list
    calendar_id: int | None
    target_hours: float | None
    first_response_kinds: list
    followup_attempts: int
    followup_days: int
    warn_at_percent: int
    notify_manager_on_breach: bool
    reassign_on_breach: bool
    period: str
    mql_volume_target: int | None
    acceptance_rate_target: int | None
    warnings: list[str] = []


def _policy_values(payload: PolicyIn) -> dict:
    values = payload.dict()
    calendar_id = values.pop("calendar_id")
    values["calendar"] = None
    if calendar_id is not None:
        values["calendar"] = WorkCalendar.objects.filter(pk=calendar_id).first()
        if values["calendar"] is None:
            raise ValidationFailed.single("calendar_id", f"there is no calendar {calendar_id}")
    return values


def _policy_out(policy: SlaPolicy, warnings: list[str] | None = None) -> PolicyOut:
    data = {name: getattr(policy, name) for name in PolicyOut.model_fields if hasattr(policy, name)}
    data["target_hours"] = float(policy.target_hours) if policy.target_hours is not None else None
    data["warnings"] = warnings or []
    return PolicyOut(**data)


@router.get("/policies", response=list[PolicyOut], summary="Every SLA policy and Marketing commitment")
def list_policies(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [_policy_out(p) for p in SlaPolicy.objects.order_by("kind", "position", "id")[:MAX_PAGE]]


@router.post("/policies", response={201: PolicyOut}, summary="Write a policy (managers)")
def create_policy(request, payload: PolicyIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    saved = services.sla_policy_save(values=_policy_values(payload), actor=request.user)
    return 201, _policy_out(saved.policy, saved.warnings)


@router.put("/policies/{policy_id}", response=PolicyOut, summary="Change a policy (managers)")
def update_policy(request, policy_id: int, payload: PolicyIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    saved = services.sla_policy_save(values=_policy_values(payload), actor=request.user, policy=policy)
    return _policy_out(saved.policy, saved.warnings)


@router.get("/calendars", response=list[CalendarOut], summary="Working calendars")
def list_calendars(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return list(WorkCalendar.objects.order_by("name")[:MAX_PAGE])


@router.post("/calendars", response={201: CalendarOut}, summary="Add a working calendar (managers)")
def create_calendar(request, payload: CalendarIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    return 201, services.work_calendar_save(values=payload.dict())


@router.put("/calendars/{calendar_id}", response=CalendarOut, summary="Change a working calendar (managers)")
def update_calendar(request, calendar_id: int, payload: CalendarIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    calendar = get_object_or_404(WorkCalendar, pk=calendar_id)
    return services.work_calendar_save(values=payload.dict(), calendar=calendar)


# --- routing ---------------------------------------------------------------------------------------


class MemberIn(Schema):
    user_id: int
    weight: int = 1


class RuleIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str
    position: int = 100
    is_active: bool = True
    countries: list[str] = []
    regions: list[str] = []
    industries: list[str] = []
    segments: list[str] = []
    members: list[MemberIn] = []


class MemberOut(Schema):
    user_id: int
    weight: int
    assigned: int


class RuleOut(Schema):
    id: int
    name: str
    kind: str
    position: int
    is_active: bool
    countries: list
    regions: list
    industries: list
    segments: list
    members: list[MemberOut]

    @staticmethod
    def resolve_members(rule):
        return list(rule.members.all())


class CapacityIn(Schema):
    max_open: int | None = None


def _rule_save(payload: RuleIn, rule=None):
    values = payload.dict(exclude={"members"})
    members = [(m.user_id, m.weight) for m in payload.members]
    return services.routing_rule_save(values=values, members=members, rule=rule)


@router.get("/routing-rules", response=list[RuleOut], summary="Routing rules, in the order they are tried")
def list_rules(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return list(RoutingRule.objects.prefetch_related("members").order_by("position", "id")[:MAX_PAGE])


@router.post("/routing-rules", response={201: RuleOut}, summary="Add a routing rule (managers)")
def create_rule(request, payload: RuleIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    return 201, _rule_save(payload)


@router.put("/routing-rules/{rule_id}", response=RuleOut, summary="Change a routing rule (managers)")
def update_rule(request, rule_id: int, payload: RuleIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    return _rule_save(payload, get_object_or_404(RoutingRule, pk=rule_id))


@router.put("/capacity/{user_id}", summary="Set how many open handoffs a rep may hold (null: no limit)")
def set_capacity(request, user_id: int, payload: CapacityIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    services.rep_capacity_set(user=get_object_or_404(User, pk=user_id), max_open=payload.max_open)
    return {"user_id": user_id, "max_open": payload.max_open}


# --- one handoff ---------------------------------------------------------------------------------


@router.get("/{handoff_id}", response=HandoffOut, summary="One handoff")
def get_handoff(request, handoff_id: int):
    return HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))


@router.post("/{handoff_id}/attempts", response={201: HandoffOut}, summary="Log a call, sales email or meeting")
def log_attempt(request, handoff_id: int, payload: AttemptIn):
    require_perm(request.user, Perm.WORK_HANDOFFS)
    handoff = queries.handoff_get_for(user=request.user, pk=handoff_id)
    services.handoff_log_attempt(handoff=handoff, actor=request.user, kind=payload.kind, note=payload.note)
    return 201, HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))


@router.post("/{handoff_id}/accept", response=HandoffOut, summary="Accept the lead (contact becomes SAL)")
def accept(request, handoff_id: int, payload: AcceptIn):
    require_perm(request.user, Perm.WORK_HANDOFFS)
    handoff = queries.handoff_get_for(user=request.user, pk=handoff_id)
    services.handoff_accept(handoff=handoff, actor=request.user, note=payload.note)
    return HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))


@router.post("/{handoff_id}/reject", response=HandoffOut, summary="Reject with a reason code")
def reject(request, handoff_id: int, payload: RejectIn):
    require_perm(request.user, Perm.WORK_HANDOFFS)
    handoff = queries.handoff_get_for(user=request.user, pk=handoff_id)
    services.handoff_reject(handoff=handoff, actor=request.user, reason=payload.reason, note=payload.note,
                            reentry_on=payload.reentry_on)
    return HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))


@router.post("/{handoff_id}/recycle", response=HandoffOut, summary="Back to nurturing until a re-entry date")
def recycle(request, handoff_id: int, payload: RecycleIn):
    require_perm(request.user, Perm.WORK_HANDOFFS)
    handoff = queries.handoff_get_for(user=request.user, pk=handoff_id)
    services.handoff_recycle(handoff=handoff, actor=request.user, reason=payload.reason,
                             reentry_on=payload.reentry_on, note=payload.note)
    return HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))


@router.post("/{handoff_id}/reassign", response=HandoffOut, summary="Give the lead to another rep (managers)")
def reassign(request, handoff_id: int, payload: ReassignIn):
    require_perm(request.user, Perm.MANAGE_SLA)
    handoff = queries.handoff_get_for(user=request.user, pk=handoff_id)
    to_user = User.objects.filter(pk=payload.owner_id).first()
    if to_user is None:
        raise ValidationFailed.single("owner_id", f"there is no user {payload.owner_id}")
    services.handoff_reassign(handoff=handoff, actor=request.user, to_user=to_user)
    return HandoffOut.from_handoff(queries.handoff_get_for(user=request.user, pk=handoff_id))
