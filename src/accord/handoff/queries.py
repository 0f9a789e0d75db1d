"""Reads of the handoff app: queues, the SLA board, the compliance report, commitments."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from accord.core.business_time import business_hours_between
from accord.core.clock import now
from accord.core.permissions import Perm, has_perm
from accord.handoff.criteria import policy_q
from accord.handoff.models import (
    Handoff,
    HandoffEvent,
    HandoffStatus,
    PolicyKind,
    RejectReason,
    SlaPolicy,
    WorkCalendar,
)


def _with_related(qs: QuerySet) -> QuerySet:
    return qs.select_related("contact", "contact__account", "owner", "policy")


def handoff_queue(*, user, owner_id: int | None = None, status: str = HandoffStatus.OPEN) -> QuerySet:
    """A rep's queue: their own leads and the team's unassigned ones, overdue first, then by
    time left. Managers may look at anyone's queue, or everyone's."""
    qs = Handoff.objects.filter(status=status)
    if has_perm(user, Perm.VIEW_SLA_BOARD) and owner_id is not None:
        qs = qs.filter(owner_id=owner_id) if owner_id else qs.filter(owner__isnull=True)
    elif not has_perm(user, Perm.VIEW_SLA_BOARD) or owner_id is None:
        qs = qs.filter(Q(owner=user) | Q(owner__isnull=True, team=user.team))
    return _with_related(qs).order_by(F("due_at").asc(nulls_last=True), "opened_at", "id")


def queue_counts(*, user, at: datetime | None = None) -> dict:
    """Open and overdue leads in a rep's queue, in one query."""
    at = at or now()
    return handoff_queue(user=user).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lte=at, first_response_at__isnull=True)),
    )


def handoff_get_for(*, user, pk: int) -> Handoff:
    """Anyone who may see records may see a handoff (both teams measure it)."""
    if not has_perm(user, Perm.VIEW_RECORDS):
        raise Http404("No such handoff.")
    handoff = _with_related(Handoff.objects.filter(pk=pk)).select_related("closed_by", "routing_rule").first()
    if handoff is None:
        raise Http404("No such handoff.")
    return handoff


def handoff_events(*, handoff: Handoff) -> list[HandoffEvent]:
    return list(handoff.events.select_related("actor").order_by("at", "id"))


def handoffs_for_contact(*, contact_id: int, limit: int = 5) -> list[Handoff]:
    return list(_with_related(Handoff.objects.filter(contact_id=contact_id)).order_by("-opened_at", "-id")[:limit])


@dataclass
class BoardRow:
    owner_id: int | None
    name: str
    open: int = 0
    overdue: int = 0
    due_soon: int = 0
    breached_open: int = 0
    cadence_behind: int = 0
    away: bool = False


def sla_board(*, at: datetime | None = None) -> list[BoardRow]:
    """Per rep: open leads, overdue (past due, no response), due within four hours, breached.
    One grouped query."""
    at = at or now()
    no_response = Q(first_response_at__isnull=True, due_at__isnull=False)
    rows = (
        Handoff.objects.filter(status=HandoffStatus.OPEN)
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username", "owner__is_away")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=no_response & Q(due_at__lte=at)),
            due_soon=Count("id", filter=no_response & Q(due_at__gt=at, due_at__lte=at + timedelta(hours=4))),
            breached_open=Count("id", filter=Q(breached=True)),
            # Follow-up cadence: fewer attempts than the policy asks by its deadline.
            cadence_behind=Count(
                "id", filter=Q(followup_due_at__lte=at, attempts__lt=F("policy__followup_attempts"))
            ),
        )
        .order_by("-overdue", "-open")
    )
    board = []
    for row in rows:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"] or "Unassigned"
        board.append(
            BoardRow(
                owner_id=row["owner_id"], name=name, open=row["open"], overdue=row["overdue"],
                due_soon=row["due_soon"], breached_open=row["breached_open"], cadence_behind=row["cadence_behind"],
                away=bool(row["owner__is_away"]),
            )
        )
    return board


def breached_handoffs(*, open_only: bool = True) -> QuerySet:
    qs = Handoff.objects.filter(breached=True)
    if open_only:
        qs = qs.filter(status=HandoffStatus.OPEN)
    return _with_related(qs).order_by("-breached_at", "-id")


# ---------------------------------------------------------------------------------------------
# Compliance report


GROUPINGS = {"rep": "Rep", "team": "Team", "source": "Source", "month": "Month"}


@dataclass
class ComplianceRow:
    key: str
    label: str
    handoffs: int = 0
    responded: int = 0
    hours: list[float] = field(default_factory=list)
    measured: int = 0
    within_sla: int = 0
    breaches: int = 0
    accepted: int = 0
    rejected: int = 0
    recycled: int = 0
    loops: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.hours), 1) if self.hours else None

    @property
    def within_sla_share(self) -> float | None:
        return round(100 * self.within_sla / self.measured, 1) if self.measured else None

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.rejected
        return round(100 * self.accepted / decided, 1) if decided else None

    @property
    def reason_list(self) -> list[tuple[str, int]]:
        return [(RejectReason(code).label, n) for code, n in self.reasons.most_common()]

    def as_dict(self) -> dict:
        return {
            "key": self.key, "label": self.label, "handoffs": self.handoffs, "responded": self.responded,
            "median_business_hours_to_first_response": self.median_hours, "measured": self.measured,
            "within_sla": self.within_sla, "within_sla_percent": self.within_sla_share, "breaches": self.breaches,
            "accepted": self.accepted, "rejected": self.rejected, "acceptance_rate_percent": self.acceptance_rate,
            "rejection_reasons": dict(self.reasons), "recycled": self.recycled, "recycle_loops": self.loops,
        }


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def compliance_report(*, start: datetime, end: datetime, group_by: str = "rep", at: datetime | None = None) -> list[ComplianceRow]:
    """Handoffs opened in [start, end), grouped by rep, team, source or month.

    A handoff counts toward "within SLA" once its outcome is known: answered (or closed) by
    its due time, or past due without an answer. Time to first response is in business hours
    of the handoff's own policy calendar.
    """
    if group_by not in GROUPINGS:
        group_by = "rep"
    at = at or now()
    calendars = {c.pk: c.as_calendar() for c in WorkCalendar.objects.all()}
    rows: dict[str, ComplianceRow] = {}
    handoffs = (
        Handoff.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .values_list(
            "owner_id", "owner__first_name", "owner__last_name", "owner__username", "team", "source", "opened_at",
            "due_at", "first_response_at", "closed_at", "breached", "status", "reject_reason", "loop",
            "policy__calendar_id",
        )
        .order_by("opened_at")
    )
    for (owner_id, first, last, username, team, source, opened, due, responded, closed, breached, status, reason,
         loop, calendar_id) in handoffs.iterator(chunk_size=2000):
        if group_by == "rep":
            key, label = str(owner_id or ""), (f"{first} {last}".strip() or username or "Unassigned")
        elif group_by == "team":
            key, label = team, team.capitalize()
        elif group_by == "source":
            key, label = source, source.replace("_", " ").capitalize() or "Unknown"
        else:
            key = label = f"{opened:%Y-%m}"
        row = rows.setdefault(key, ComplianceRow(key=key, label=label))
        row.handoffs += 1
        if responded is not None:
            row.responded += 1
            calendar = calendars.get(calendar_id)
            row.hours.append(
                business_hours_between(opened, responded, calendar) if calendar
                else (responded - opened).total_seconds() / 3600
            )
        answered = responded or closed
        if due is not None and (answered is not None or due <= at):
            row.measured += 1
            if answered is not None and answered <= due:
                row.within_sla += 1
        row.breaches += bool(breached)
        if status == HandoffStatus.ACCEPTED:
            row.accepted += 1
        elif status == HandoffStatus.REJECTED:
            row.rejected += 1
            row.reasons[reason] += 1
        elif status == HandoffStatus.RECYCLED:
            row.recycled += 1
        row.loops += 1 if loop else 0
    return sorted(rows.values(), key=lambda r: (r.key if group_by == "month" else r.label.lower()))


def compliance_totals(rows: list[ComplianceRow]) -> ComplianceRow:
    total = ComplianceRow(key="", label="All")
    for row in rows:
        for name in ("handoffs", "responded", "measured", "within_sla", "breaches", "accepted", "rejected", "recycled", "loops"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.hours.extend(row.hours)
        total.reasons.update(row.reasons)
    return total


@dataclass
class CommitmentRow:
    policy: SlaPolicy
    period: str
    delivered: int
    accepted: int
    rejected: int

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.rejected
        return round(100 * self.accepted / decided, 1) if decided else None

    @property
    def volume_met(self) -> bool | None:
        target = self.policy.mql_volume_target
        return None if target is None else self.delivered >= target

    @property
    def rate_met(self) -> bool | None:
        target, rate = self.policy.acceptance_rate_target, self.acceptance_rate
        return None if target is None or rate is None else rate >= target

    def as_dict(self) -> dict:
        return {
            "policy": self.policy.name, "period": self.period, "mql_volume_target": self.policy.mql_volume_target,
            "delivered": self.delivered, "volume_met": self.volume_met,
            "acceptance_rate_target": self.policy.acceptance_rate_target, "accepted": self.accepted,
            "rejected": self.rejected, "acceptance_rate_percent": self.acceptance_rate, "rate_met": self.rate_met,
        }


def _periods(start: datetime, end: datetime, period: str) -> list[tuple[str, datetime, datetime]]:
    step = 3 if period == "quarter" else 1
    month = start.month - ((start.month - 1) % step)
    cursor = datetime(start.year, month, 1, tzinfo=UTC)
    periods = []
    while cursor < end:
        nxt_month = cursor.month - 1 + step
        nxt = datetime(cursor.year + nxt_month // 12, nxt_month % 12 + 1, 1, tzinfo=UTC)
        label = f"{cursor:%Y}-Q{(cursor.month - 1) // 3 + 1}" if period == "quarter" else f"{cursor:%Y-%m}"
        periods.append((label, cursor, nxt))
        cursor = nxt
    return periods


def commitments_report(*, start: datetime, end: datetime) -> list[CommitmentRow]:
    """Marketing's promises against what was delivered: one grouped query per commitment."""
    rows = []
    for policy in SlaPolicy.objects.filter(kind=PolicyKind.COMMITMENT, is_active=True).order_by("position", "id"):
        periods = _periods(start, end, policy.period)
        if not periods:
            continue
        counts = {}
        for label, lo, hi in periods:
            counts[label] = Count("id", filter=Q(opened_at__gte=lo, opened_at__lt=hi))
            counts[f"{label}/a"] = Count("id", filter=Q(opened_at__gte=lo, opened_at__lt=hi, status=HandoffStatus.ACCEPTED))
            counts[f"{label}/r"] = Count("id", filter=Q(opened_at__gte=lo, opened_at__lt=hi, status=HandoffStatus.REJECTED))
        totals = Handoff.objects.filter(
            policy_q(policy, prefix="contact__", include_stages=False),
            opened_at__gte=periods[0][1], opened_at__lt=periods[-1][2],
        ).aggregate(**counts)
        for label, _, _ in periods:
            rows.append(CommitmentRow(policy=policy, period=label, delivered=totals[label],
                                      accepted=totals[f"{label}/a"], rejected=totals[f"{label}/r"]))
    return rows


def report_window(*, months: int = 3, at: datetime | None = None) -> tuple[datetime, datetime]:
    at = at or now()
    end_month = _month_start(at.date())
    year, month = end_month.year, end_month.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    nxt = end_month.month % 12 + 1
    end = datetime(end_month.year + (1 if end_month.month == 12 else 0), nxt, 1, tzinfo=UTC)
    return datetime(year, month, 1, tzinfo=UTC), end


def sla_compliance_kpi(*, start, end, contacts):
    """The reports app's "SLA compliance" KPI: handoffs due in the window answered in time."""
    from accord.reports.providers import KpiCount

    handoffs = Handoff.objects.filter(due_at__gte=start, due_at__lt=end, due_at__lte=now())
    if contacts is not None:
        handoffs = handoffs.filter(contact__in=contacts)
    answered_in_time = Q(first_response_at__lte=F("due_at")) | Q(first_response_at__isnull=True, closed_at__lte=F("due_at"))
    totals = handoffs.aggregate(total=Count("id"), met=Count("id", filter=answered_in_time))
    return KpiCount(met=totals["met"], total=totals["total"], url="/handoffs/report/")


def sla_changes(*, start, end):
    """The digest's "what changed": SLA policies written or changed in the period."""
    from accord.reports.providers import ChangeItem

    policies = SlaPolicy.objects.filter(updated_at__gte=start, updated_at__lt=end).order_by("updated_at")[:50]
    return [
        ChangeItem(
            at=policy.updated_at, kind="sla",
            title=f"{'New' if policy.created_at >= start else 'Changed'} {policy.get_kind_display().lower()}: {policy.name}",
            url="/handoffs/policies/",
        )
        for policy in policies
    ]
