"""Writes of the handoff app: the agreement (calendars, policies, routing), handing leads to
Sales, the rep's actions on a handoff, and the sweep that runs the SLA clock."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery

from accord.campaigns.models import Channel, Touchpoint, TouchpointKind
from accord.core.business_time import BusinessCalendar, add_business_hours
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Role, Team, User
from accord.core.permissions import Perm, has_perm
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, StageChange
from accord.crm.services import contact_change_stage
from accord.handoff.criteria import policy_q, source_of
from accord.handoff.models import (
    REJECT_RECYCLES,
    Handoff,
    HandoffEvent,
    HandoffEventKind,
    HandoffStatus,
    PolicyKind,
    RejectReason,
    RepCapacity,
    RoutingKind,
    RoutingMember,
    RoutingRule,
    Segment,
    SlaPolicy,
    WorkCalendar,
)
from accord.handoff.notices import send_notice
from accord.handoff.routing import route_contacts

# Touchpoints a rep can log that count as a response to a lead.
RESPONSE_KINDS = (TouchpointKind.CALL, TouchpointKind.SALES_EMAIL, TouchpointKind.MEETING)
DEFAULT_RECYCLE_DAYS = 90
# An MQL older than this when its handoff opens (backfill, re-entry) starts its clock at opening.
CLOCK_BACKDATE_LIMIT = timedelta(days=1)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# ---------------------------------------------------------------------------------------------
# Calendars


def work_calendar_save(*, values: dict, calendar: WorkCalendar | None = None) -> WorkCalendar:
    """Create or change a working calendar; refuses calendars without working hours or with
    overlapping holidays, naming the field."""
    name = str(values.get("name", calendar.name if calendar else "")).strip()
    errors = {}
    if not name:
        errors["name"] = "give the calendar a name"
    elif WorkCalendar.objects.filter(name=name).exclude(pk=calendar.pk if calendar else None).exists():
        errors["name"] = f"a calendar named {name!r} already exists"
    time_zone = values.get("time_zone", calendar.time_zone if calendar else "UTC")
    working_hours = values.get("working_hours", calendar.working_hours if calendar else {})
    holidays = values.get("holidays", calendar.holidays if calendar else [])
    try:
        parsed = BusinessCalendar.build(time_zone=time_zone, working_hours=working_hours, holidays=holidays)
    except ValidationFailed as refused:
        errors.update(refused.errors)
    if errors:
        raise ValidationFailed(errors)
    stored_hours = {
        str(day): [[f"{a:%H:%M}", "24:00" if b.hour == 0 and b.minute == 0 else f"{b:%H:%M}"] for a, b in spans]
        for day, spans in enumerate(parsed.working_hours)
        if spans
    }
    stored_holidays = [
        {"start": h.start.isoformat(), "end": h.end.isoformat(), "name": h.name} for h in parsed.holidays
    ]
    moment = now()
    if calendar is None:
        calendar = WorkCalendar(created_at=moment)
    calendar.name, calendar.time_zone = name, time_zone
    calendar.working_hours, calendar.holidays = stored_hours, stored_holidays
    calendar.updated_at = moment
    calendar.save()
    return calendar


# ---------------------------------------------------------------------------------------------
# Policies


@dataclass
class PolicySaved:
    policy: SlaPolicy
    warnings: list[str] = field(default_factory=list)


def _as_list(values: dict, name: str) -> list[str]:
    raw = values.get(name) or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return [str(item).strip() for item in raw if str(item).strip()]


def _as_int(values: dict, name: str, errors: dict, *, low: int, high: int, required: bool = False) -> int | None:
    raw = values.get(name)
    if raw is None or raw == "":
        if required:
            errors[name] = "required"
        return None
    try:
        number = int(raw)
    except (TypeError, ValueError):
        errors[name] = f"'{raw}' is not a whole number"
        return None
    if not low <= number <= high:
        errors[name] = f"must be between {low} and {high}"
    return number


def sla_policy_save(*, values: dict, actor=None, policy: SlaPolicy | None = None) -> PolicySaved:
    """Create or change a policy. Contradictory criteria are refused; criteria that match no
    contact today are saved with a warning, so a new segment can be planned ahead."""
    errors: dict[str, str] = {}
    current = {f.name: getattr(policy, f.name) for f in SlaPolicy._meta.concrete_fields} if policy else {}
    merged = {**current, **values}
    name = str(merged.get("name") or "").strip()
    if not name:
        errors["name"] = "give the policy a name"
    kind = merged.get("kind") or PolicyKind.RESPONSE
    if kind not in PolicyKind.values:
        errors["kind"] = f"use one of {', '.join(PolicyKind.values)}"
    team = merged.get("team") or (Team.MARKETING if kind == PolicyKind.COMMITMENT else Team.SALES)
    if team not in Team.values:
        errors["team"] = f"use one of {', '.join(Team.values)}"

    stages = _as_list(merged, "stages")
    grades = [grade.upper() for grade in _as_list(merged, "grades")]
    sources = _as_list(merged, "sources")
    countries = [country.upper() for country in _as_list(merged, "countries")]
    segments = _as_list(merged, "segments")
    industries = _as_list(merged, "industries")
    if bad := [s for s in stages if s not in Stage.values]:
        errors["stages"] = f"{', '.join(bad)} is not a lifecycle stage"
    elif kind == PolicyKind.RESPONSE and stages and Stage.MQL not in stages:
        errors["stages"] = "handoffs open when a lead reaches MQL, so a response policy without MQL matches nothing"
    if bad := [g for g in grades if len(g) != 1 or not g.isalpha()]:
        errors["grades"] = f"{', '.join(bad)} is not a grade (one letter, A to F)"
    if bad := [s for s in sources if s not in Channel.values]:
        errors["sources"] = f"{', '.join(bad)} is not a channel; use {', '.join(Channel.values)}"
    if bad := [c for c in countries if not _COUNTRY.match(c)]:
        errors["countries"] = f"{', '.join(bad)} is not a two-letter country code"
    if bad := [s for s in segments if s not in Segment.values]:
        errors["segments"] = f"{', '.join(bad)} is not a segment; use {', '.join(Segment.values)}"
    min_score = _as_int(merged, "min_score", errors, low=-100000, high=100000)
    max_score = _as_int(merged, "max_score", errors, low=-100000, high=100000)
    if min_score is not None and max_score is not None and min_score > max_score:
        errors["max_score"] = f"matches nothing: the minimum score {min_score} is above the maximum {max_score}"
    position = _as_int(merged, "position", errors, low=0, high=100000) or 100

    target_hours = None
    calendar = merged.get("calendar")
    if isinstance(calendar, int | str) and str(calendar).isdigit():
        calendar = WorkCalendar.objects.filter(pk=int(calendar)).first() or "missing"
    kinds = _as_list(merged, "first_response_kinds") or ([] if kind == PolicyKind.COMMITMENT else list(RESPONSE_KINDS))
    warn = _as_int(merged, "warn_at_percent", errors, low=1, high=99) or 75
    attempts = _as_int(merged, "followup_attempts", errors, low=0, high=50) or 0
    days = _as_int(merged, "followup_days", errors, low=0, high=365) or 0
    volume = _as_int(merged, "mql_volume_target", errors, low=1, high=10_000_000)
    rate = _as_int(merged, "acceptance_rate_target", errors, low=0, high=100)
    period = merged.get("period") or "month"
    if kind == PolicyKind.RESPONSE:
        if not isinstance(calendar, WorkCalendar):
            errors["calendar"] = "choose the working calendar the hours are counted in"
        try:
            target_hours = Decimal(str(merged.get("target_hours")))
            if not target_hours.is_finite() or not Decimal("0.25") <= target_hours <= Decimal("2000"):
                errors["target_hours"] = "give between 0.25 and 2000 business hours"
        except (InvalidOperation, TypeError):
            errors["target_hours"] = "give the target in business hours, e.g. 24"
        if bad := [k for k in kinds if k not in RESPONSE_KINDS]:
            errors["first_response_kinds"] = f"{', '.join(bad)} cannot be a response; use {', '.join(RESPONSE_KINDS)}"
        if attempts and not days:
            errors["followup_days"] = "say within how many days the follow-up attempts are due"
    else:
        calendar = None
        if volume is None and rate is None:
            errors["mql_volume_target"] = "a commitment needs an MQL volume or an acceptance rate"
        if period not in ("month", "quarter"):
            errors["period"] = "use month or quarter"
    if errors:
        raise ValidationFailed(errors)

    moment = now()
    if policy is None:
        policy = SlaPolicy(created_by=actor, created_at=moment)
    policy.name, policy.kind, policy.team, policy.position = name, kind, team, position
    policy.is_active = bool(merged.get("is_active", True))
    policy.stages, policy.grades, policy.sources = stages, grades, sources
    policy.countries, policy.segments, policy.industries = countries, segments, industries
    policy.min_score, policy.max_score = min_score, max_score
    policy.calendar, policy.target_hours = calendar, target_hours
    policy.first_response_kinds = kinds
    policy.warn_at_percent, policy.followup_attempts, policy.followup_days = warn, attempts, days
    policy.notify_manager_on_breach = bool(merged.get("notify_manager_on_breach", True))
    policy.reassign_on_breach = bool(merged.get("reassign_on_breach", False))
    policy.period, policy.mql_volume_target, policy.acceptance_rate_target = period, volume, rate
    policy.updated_at = moment
    policy.save()
    return PolicySaved(policy=policy, warnings=policy_warnings(policy=policy))


def policy_warnings(*, policy: SlaPolicy) -> list[str]:
    """What an editor should know: criteria that match no contact, or policies shadowing it."""
    warnings = []
    if not Contact.objects.filter(policy_q(policy, include_stages=False)).exists():
        warnings.append(f"The criteria of {policy.name!r} match no contact in the database today.")
    if policy.kind == PolicyKind.RESPONSE and policy.is_active:
        catch_all = (
            SlaPolicy.objects.filter(kind=PolicyKind.RESPONSE, is_active=True, position__lt=policy.position)
            .filter(stages=[], grades=[], sources=[], countries=[], segments=[], industries=[])
            .filter(min_score__isnull=True, max_score__isnull=True)
            .first()
        )
        if catch_all is not None:
            warnings.append(f"{catch_all.name!r} comes first and matches every lead, so this policy never applies.")
    return warnings


# ---------------------------------------------------------------------------------------------
# Routing rules and capacity


def routing_rule_save(
    *, values: dict, members: Sequence[tuple[int, int]] = (), rule: RoutingRule | None = None
) -> RoutingRule:
    """Create or change a rule and its pool: ``members`` is a list of (user id, weight)."""
    errors: dict[str, str] = {}
    name = str(values.get("name") or (rule.name if rule else "")).strip()
    if not name:
        errors["name"] = "give the rule a name"
    kind = values.get("kind") or (rule.kind if rule else "")
    if kind not in RoutingKind.values:
        errors["kind"] = f"use one of {', '.join(RoutingKind.values)}"
    countries = [c.upper() for c in _as_list(values, "countries")]
    regions = _as_list(values, "regions")
    industries = _as_list(values, "industries")
    segments = _as_list(values, "segments")
    if bad := [c for c in countries if not _COUNTRY.match(c)]:
        errors["countries"] = f"{', '.join(bad)} is not a two-letter country code"
    if bad := [s for s in segments if s not in Segment.values]:
        errors["segments"] = f"{', '.join(bad)} is not a segment; use {', '.join(Segment.values)}"
    if kind == RoutingKind.TERRITORY and not (countries or regions):
        errors["countries"] = "a territory rule needs countries or regions"
    if kind == RoutingKind.SEGMENT and not (industries or segments):
        errors["industries"] = "a segment rule needs industries or segments"
    position = _as_int(values, "position", errors, low=0, high=100000)
    weights: dict[int, int] = {}
    for user_id, weight in members:
        if not 1 <= int(weight) <= 100:
            errors["members"] = "each weight must be between 1 and 100"
        weights[int(user_id)] = int(weight)
    if kind and kind != RoutingKind.ACCOUNT_OWNER:
        users = User.objects.filter(pk__in=weights, is_active=True)
        workers = {user.pk for user in users if has_perm(user, Perm.WORK_HANDOFFS)}
        if not weights:
            errors["members"] = "add at least one rep to the pool"
        elif missing := sorted(set(weights) - workers):
            errors["members"] = f"users {', '.join(map(str, missing))} are not active reps who work handoffs"
    if errors:
        raise ValidationFailed(errors)
    moment = now()
    with transaction.atomic():
        if rule is None:
            rule = RoutingRule(created_at=moment)
        rule.name, rule.kind = name, kind
        rule.position = position if position is not None else (rule.position or 100)
        rule.is_active = bool(values.get("is_active", True))
        rule.countries, rule.regions, rule.industries, rule.segments = countries, regions, industries, segments
        rule.updated_at = moment
        rule.save()
        if kind == RoutingKind.ACCOUNT_OWNER:
            weights = {}
        rule.members.exclude(user_id__in=weights).delete()
        existing = {m.user_id: m for m in rule.members.all()}
        for member in existing.values():
            member.weight = weights[member.user_id]
        RoutingMember.objects.bulk_update(existing.values(), ["weight"])
        RoutingMember.objects.bulk_create(
            [RoutingMember(rule=rule, user_id=uid, weight=w) for uid, w in weights.items() if uid not in existing]
        )
    return rule


def rep_capacity_set(*, user: User, max_open: int | None) -> None:
    if max_open is None:
        RepCapacity.objects.filter(user=user).delete()
        return
    if max_open < 0 or max_open > 100000:
        raise ValidationFailed.single("max_open", "must be between 0 and 100000")
    RepCapacity.objects.update_or_create(user=user, defaults={"max_open": max_open})


# ---------------------------------------------------------------------------------------------
# Opening handoffs


def _response_policies() -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(kind=PolicyKind.RESPONSE, is_active=True).select_related("calendar").order_by("position", "id")
    )


def _policy_for(contact_ids: list[int], policies: list[SlaPolicy]) -> dict[int, SlaPolicy]:
    """The first matching policy per contact: one query per policy, never one per contact."""
    chosen: dict[int, SlaPolicy] = {}
    remaining = set(contact_ids)
    for policy in policies:
        if not remaining:
            break
        matched = Contact.objects.filter(pk__in=remaining).filter(policy_q(policy)).values_list("pk", flat=True)
        for contact_id in matched:
            chosen[contact_id] = policy
        remaining -= set(chosen)
    return chosen


@dataclass
class _Timers:
    warn_at: datetime | None
    due_at: datetime | None
    followup_due_at: datetime | None


def _timers(policy: SlaPolicy | None, start: datetime, calendars: dict) -> _Timers:
    if policy is None or policy.calendar is None or policy.target_hours is None:
        return _Timers(None, None, None)
    calendar = calendars.get(policy.calendar_id)
    if calendar is None:
        calendar = calendars[policy.calendar_id] = policy.calendar.as_calendar()
    hours = float(policy.target_hours)
    return _Timers(
        warn_at=add_business_hours(start, hours * policy.warn_at_percent / 100, calendar),
        due_at=add_business_hours(start, hours, calendar),
        followup_due_at=start + timedelta(days=policy.followup_days) if policy.followup_attempts else None,
    )


def handoffs_open_for(*, contacts: Iterable[Contact], actor=None, at: datetime | None = None) -> list[Handoff]:
    """Hand every given contact that is an MQL without an open handoff to Sales: pick its
    policy, route it to a rep, start the clock. Idempotent; a fixed number of queries per
    batch. Contacts recycled until a future re-entry date wait for it."""
    ids = sorted({contact.pk for contact in contacts})
    if not ids:
        return []
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _open_batch(ids, actor=actor, at=at or now())
        except IntegrityError:
            # Another worker or request opened one of these at the same moment: look again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _open_batch(ids: list[int], *, actor, at: datetime) -> list[Handoff]:
    open_handoff = Handoff.objects.filter(contact=OuterRef("pk"), status=HandoffStatus.OPEN)
    waiting = Handoff.objects.filter(contact=OuterRef("pk"), reentry_on__gt=at.date())
    candidates = list(
        Contact.objects.filter(pk__in=ids, lifecycle_stage=Stage.MQL)
        .exclude(Exists(open_handoff))
        .exclude(Exists(waiting))
        .select_related("account", "account__owner")
        .order_by("pk")
    )
    if not candidates:
        return []
    candidate_ids = [c.pk for c in candidates]
    loops = dict(
        Handoff.objects.filter(contact_id__in=candidate_ids, reentry_on__isnull=False)
        .values_list("contact_id")
        .annotate(n=Count("id"))
        .values_list("contact_id", "n")
    )
    policies = _policy_for(candidate_ids, _response_policies())
    routes = route_contacts(contacts=candidates)
    calendars: dict[int, BusinessCalendar] = {}
    handoffs = []
    for contact in candidates:
        policy, route = policies.get(contact.pk), routes[contact.pk]
        started = contact.stage_changed_at
        if started is None or started > at or at - started > CLOCK_BACKDATE_LIMIT:
            started = at
        timers = _timers(policy, started, calendars)
        handoffs.append(
            Handoff(
                contact=contact,
                policy=policy,
                owner=route.user,
                team=policy.team if policy else Team.SALES,
                routing_rule=route.rule,
                routing_reason=route.reason,
                source=source_of(contact),
                opened_at=started,
                warn_at=timers.warn_at,
                due_at=timers.due_at,
                followup_due_at=timers.followup_due_at,
                loop=loops.get(contact.pk, 0),
            )
        )
    Handoff.objects.bulk_create(handoffs)
    events = []
    for handoff in handoffs:
        events.append(HandoffEvent(handoff=handoff, kind=HandoffEventKind.OPENED, actor=actor, at=at,
                                   detail=f"policy {handoff.policy.name}" if handoff.policy else "no SLA policy matched"))
        events.append(HandoffEvent(handoff=handoff, kind=HandoffEventKind.ASSIGNED, actor=actor, at=at,
                                   detail=handoff.routing_reason))
    HandoffEvent.objects.bulk_create(events)
    _set_contact_owners(handoffs)
    _tell_new_owners(handoffs)
    return handoffs


def _set_contact_owners(handoffs: Sequence[Handoff]) -> None:
    by_owner: dict[int, list[int]] = defaultdict(list)
    for handoff in handoffs:
        if handoff.owner_id is not None and handoff.contact.owner_id != handoff.owner_id:
            by_owner[handoff.owner_id].append(handoff.contact_id)
            handoff.contact.owner_id = handoff.owner_id
    for owner_id, contact_ids in by_owner.items():
        Contact.objects.filter(pk__in=contact_ids).update(owner_id=owner_id, updated_at=now())


def _tell_new_owners(handoffs: Sequence[Handoff], *, kind: str = "handoff.assigned") -> None:
    by_owner: dict[int, list[Handoff]] = defaultdict(list)
    for handoff in handoffs:
        if handoff.owner_id is not None:
            by_owner[handoff.owner_id].append(handoff)
    for items in by_owner.values():
        owner = items[0].owner
        first = items[0]
        due = f", due {first.due_at:%Y-%m-%d %H:%M} UTC" if first.due_at else ""
        title = f"New lead for you: {first.contact}{due}" if len(items) == 1 else f"{len(items)} new leads for you"
        body = "\n".join(f"{h.contact} — {h.routing_reason}" for h in items[:50])
        send_notice(recipients=[owner], kind=kind, title=title, body=body, url="/handoffs/")


def handoffs_open_pending(*, at: datetime | None = None, batch_size: int = 500) -> int:
    """Open handoffs for every MQL without one (manual moves, scoring activations, re-entries)."""
    at = at or now()
    opened = 0
    last_id = 0
    open_handoff = Handoff.objects.filter(contact=OuterRef("pk"), status=HandoffStatus.OPEN)
    while True:
        batch = list(
            Contact.objects.filter(lifecycle_stage=Stage.MQL, pk__gt=last_id)
            .exclude(Exists(open_handoff))
            .order_by("pk")
            .only("pk")[:batch_size]
        )
        if not batch:
            return opened
        last_id = batch[-1].pk
        opened += len(handoffs_open_for(contacts=batch, at=at))


# ---------------------------------------------------------------------------------------------
# A rep's actions


def _check_may_work(handoff: Handoff, actor) -> None:
    if has_perm(actor, Perm.MANAGE_SLA):
        return
    if not has_perm(actor, Perm.WORK_HANDOFFS):
        raise PermissionDenied("Your role may not work handoffs.")
    if handoff.owner_id not in (None, actor.pk):
        raise PermissionDenied(f"This lead belongs to {handoff.owner.display_name}.")


def _claim_close(handoff: Handoff, actor, values: dict) -> None:
    """Close an open handoff exactly once: of two reps acting at the same moment, one wins."""
    may = Q(pk=handoff.pk, status=HandoffStatus.OPEN)
    if not has_perm(actor, Perm.MANAGE_SLA):
        may &= Q(owner__isnull=True) | Q(owner=actor)
    closed = Handoff.objects.filter(may).update(**values)
    if not closed:
        current = Handoff.objects.select_related("closed_by").get(pk=handoff.pk)
        who = f" by {current.closed_by.display_name}" if current.closed_by else ""
        raise ValidationFailed.single("status", f"this handoff is already {current.get_status_display().lower()}{who}")
    handoff.refresh_from_db()


def _move_contact(handoff: Handoff, *, to_stage: str, actor, reason: str) -> None:
    contact = Contact.objects.select_for_update().get(pk=handoff.contact_id)
    if contact.lifecycle_stage != to_stage:
        contact_change_stage(
            contact=contact, to_stage=to_stage, actor=actor, reason=reason, source=StageChange.Source.HANDOFF
        )


def handoff_log_attempt(
    *, handoff: Handoff, actor, kind: str = TouchpointKind.CALL, note: str = "", at: datetime | None = None
) -> Touchpoint:
    """Log a call, email or meeting with the lead. The owner's first one is the first response."""
    _check_may_work(handoff, actor)
    if kind not in RESPONSE_KINDS:
        raise ValidationFailed.single("kind", f"log one of {', '.join(RESPONSE_KINDS)}")
    if not handoff.is_open:
        raise ValidationFailed.single("status", f"this handoff is already {handoff.get_status_display().lower()}")
    moment = at or now()
    if moment > now() + timedelta(minutes=5):
        raise ValidationFailed.single("at", "an attempt cannot be logged in the future")
    with transaction.atomic():
        touchpoint = Touchpoint.objects.create(
            contact_id=handoff.contact_id,
            kind=kind,
            channel=Channel.SALES,
            team=Team.SALES,
            actor=actor,
            occurred_at=moment,
            body=note.strip(),
            subject=f"{TouchpointKind(kind).label} about the handoff",
            created_at=now(),
        )
        counts = handoff.policy is None or kind in (handoff.policy.first_response_kinds or RESPONSE_KINDS)
        updates = {"attempts": F("attempts") + 1, "last_attempt_at": moment}
        if handoff.owner_id is None and not has_perm(actor, Perm.MANAGE_SLA):
            updates["owner"] = actor
        Handoff.objects.filter(pk=handoff.pk).update(**updates)
        if counts and (handoff.owner_id in (None, actor.pk)):
            Handoff.objects.filter(pk=handoff.pk, first_response_at__isnull=True).update(first_response_at=moment)
        HandoffEvent.objects.create(
            handoff=handoff, kind=HandoffEventKind.ATTEMPT, actor=actor, at=moment,
            detail=f"{TouchpointKind(kind).label}: {note.strip()}"[:300],
        )
    handoff.refresh_from_db()
    return touchpoint


def handoff_accept(*, handoff: Handoff, actor, note: str = "") -> Handoff:
    """Sales accepts the lead: the contact becomes SAL and the rep its owner."""
    _check_may_work(handoff, actor)
    moment = now()
    with transaction.atomic():
        values = {"status": HandoffStatus.ACCEPTED, "closed_at": moment, "closed_by": actor, "note": note.strip()}
        if handoff.owner_id is None:
            values["owner"] = actor
        _claim_close(handoff, actor, values)
        _move_contact(handoff, to_stage=Stage.SAL, actor=actor, reason=f"accepted by {actor.display_name}")
        if handoff.owner_id:
            Contact.objects.filter(pk=handoff.contact_id).exclude(owner_id=handoff.owner_id).update(owner_id=handoff.owner_id)
        HandoffEvent.objects.create(handoff=handoff, kind=HandoffEventKind.ACCEPTED, actor=actor, at=moment, detail=note[:300])
    return handoff


def _reentry(reentry_on, *, field_name: str, required: bool) -> date | None:
    if reentry_on in (None, ""):
        if required:
            raise ValidationFailed.single(field_name, "give the date the lead may qualify again")
        return None
    if not isinstance(reentry_on, date):
        try:
            reentry_on = date.fromisoformat(str(reentry_on).strip())
        except ValueError:
            raise ValidationFailed.single(field_name, f"'{reentry_on}' is not a date (use YYYY-MM-DD)") from None
    today = now().date()
    if reentry_on <= today:
        raise ValidationFailed.single(field_name, "the re-entry date must be in the future")
    if reentry_on > today + timedelta(days=3 * 366):
        raise ValidationFailed.single(field_name, "the re-entry date must be within three years")
    return reentry_on


def handoff_reject(*, handoff: Handoff, actor, reason: str, note: str = "", reentry_on=None) -> Handoff:
    """Sales turns the lead down with a reason code. "Not ready" and "no budget" go back to
    nurturing until a re-entry date (default in 90 days); the rest are disqualified."""
    _check_may_work(handoff, actor)
    if not reason:
        raise ValidationFailed.single(
            "reason", f"say why the lead is rejected: {', '.join(str(label) for label in RejectReason.labels)}"
        )
    if reason not in RejectReason.values:
        raise ValidationFailed.single("reason", f"'{reason}' is not a reason; use {', '.join(RejectReason.values)}")
    recycles = reason in REJECT_RECYCLES
    reentry = _reentry(reentry_on, field_name="reentry_on", required=False) if recycles else None
    if recycles and reentry is None:
        reentry = now().date() + timedelta(days=DEFAULT_RECYCLE_DAYS)
    label = RejectReason(reason).label
    moment = now()
    with transaction.atomic():
        _claim_close(handoff, actor, {
            "status": HandoffStatus.REJECTED, "closed_at": moment, "closed_by": actor,
            "reject_reason": reason, "note": note.strip(), "reentry_on": reentry,
        })
        stage = Stage.RECYCLED if recycles else Stage.DISQUALIFIED
        why = f"rejected by {actor.display_name}: {label}" + (f" — {note.strip()}" if note.strip() else "")
        _move_contact(handoff, to_stage=stage, actor=actor, reason=why)
        HandoffEvent.objects.create(handoff=handoff, kind=HandoffEventKind.REJECTED, actor=actor, at=moment, detail=why[:300])
    return handoff


def handoff_recycle(*, handoff: Handoff, actor, reason: str, reentry_on, note: str = "") -> Handoff:
    """Back to nurturing with a reason; the lead may qualify again from its re-entry date."""
    _check_may_work(handoff, actor)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "say why the lead goes back to nurturing"
    try:
        reentry = _reentry(reentry_on, field_name="reentry_on", required=True)
    except ValidationFailed as refused:
        errors.update(refused.errors)
    if errors:
        raise ValidationFailed(errors)
    moment = now()
    reason = reason.strip()[:300]
    with transaction.atomic():
        _claim_close(handoff, actor, {
            "status": HandoffStatus.RECYCLED, "closed_at": moment, "closed_by": actor,
            "recycle_reason": reason, "note": note.strip(), "reentry_on": reentry,
        })
        why = f"recycled by {actor.display_name} until {reentry}: {reason}"
        _move_contact(handoff, to_stage=Stage.RECYCLED, actor=actor, reason=why)
        HandoffEvent.objects.create(handoff=handoff, kind=HandoffEventKind.RECYCLED, actor=actor, at=moment, detail=why[:300])
    return handoff


def handoff_reassign(*, handoff: Handoff, actor, to_user: User) -> Handoff:
    """A manager hands an open lead to another rep."""
    if not has_perm(actor, Perm.MANAGE_SLA):
        raise PermissionDenied("Only managers reassign handoffs.")
    if not to_user.is_active or not has_perm(to_user, Perm.WORK_HANDOFFS):
        raise ValidationFailed.single("owner", f"{to_user.display_name} does not work handoffs")
    moment = now()
    with transaction.atomic():
        if not Handoff.objects.filter(pk=handoff.pk, status=HandoffStatus.OPEN).update(owner=to_user):
            raise ValidationFailed.single("status", "only open handoffs can be reassigned")
        handoff.refresh_from_db()
        Contact.objects.filter(pk=handoff.contact_id).update(owner=to_user, updated_at=moment)
        HandoffEvent.objects.create(
            handoff=handoff, kind=HandoffEventKind.REASSIGNED, actor=actor, at=moment,
            detail=f"reassigned to {to_user.display_name} by {actor.display_name}",
        )
        _tell_new_owners([handoff])
    return handoff


def handoffs_reenter(*, at: datetime | None = None) -> int:
    """Recycled contacts whose re-entry date has come go back to nurturing as leads, where
    scoring can qualify them again. Set-wise: one read, one move per due contact."""
    today = (at or now()).date()
    due = Handoff.objects.filter(contact=OuterRef("pk"), reentry_on__lte=today)
    later = Handoff.objects.filter(contact=OuterRef("pk"), reentry_on__gt=today)
    contacts = list(
        Contact.objects.filter(lifecycle_stage=Stage.RECYCLED).filter(Exists(due)).exclude(Exists(later))[:1000]
    )
    for contact in contacts:
        contact_change_stage(
            contact=contact, to_stage=Stage.LEAD, reason="re-entry date reached", source=StageChange.Source.HANDOFF
        )
    return len(contacts)


# ---------------------------------------------------------------------------------------------
# The SLA clock


@dataclass
class SweepResult:
    responses: int = 0
    warned: int = 0
    breached: int = 0
    reassigned: int = 0
    batches: int = 0


def handoffs_record_responses(*, at: datetime | None = None) -> int:
    """Touchpoints the owner logged elsewhere (360° page, API, email sync) count as the first
    response too: one update per response policy, never one per handoff."""
    updated = 0
    for policy in SlaPolicy.objects.filter(kind=PolicyKind.RESPONSE).only("pk", "first_response_kinds"):
        responses = Touchpoint.objects.filter(
            contact=OuterRef("contact"),
            actor=OuterRef("owner"),
            kind__in=policy.first_response_kinds or RESPONSE_KINDS,
            occurred_at__gte=OuterRef("opened_at"),
        )
        first = responses.order_by().values("contact").annotate(first=Min("occurred_at")).values("first")[:1]
        updated += Handoff.objects.filter(
            Exists(responses), policy=policy, status=HandoffStatus.OPEN, first_response_at__isnull=True,
            owner__isnull=False,
        ).update(first_response_at=Subquery(first))
    return updated


def _lock_due(qs, batch_size: int) -> list[int]:
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.values_list("id", flat=True)[:batch_size])


def _managers(team: str | None = None) -> list[User]:
    managers = User.objects.filter(role=Role.MANAGER, is_active=True)
    return list(managers.filter(team=team) if team else managers)


# What a notice needs of each claimed row: loading whole contacts and accounts for 1,000 rows
# a batch costs more than the rest of the sweep.
_NOTICE_FIELDS = (
    "id", "contact_id", "owner_id", "policy_id", "team", "opened_at", "due_at", "routing_reason", "routing_rule_id",
    "contact__first_name", "contact__last_name", "contact__email", "contact__owner",
    "owner__first_name", "owner__last_name", "owner__username", "owner__email", "owner__is_active",
    "policy__notify_manager_on_breach", "policy__reassign_on_breach",
)


def _claimed(**claim) -> list[Handoff]:
    return list(Handoff.objects.filter(**claim).select_related("owner", "contact", "policy").only(*_NOTICE_FIELDS))


def _claim_warnings(at: datetime, batch_size: int) -> list[Handoff]:
    token = uuid.uuid4().hex
    due = Q(status=HandoffStatus.OPEN, warned_at__isnull=True, first_response_at__isnull=True, warn_at__lte=at)
    ids = _lock_due(Handoff.objects.filter(due).order_by("warn_at"), batch_size)
    if not ids:
        return []
    Handoff.objects.filter(due, id__in=ids).update(warned_at=at, warning_claim=token)
    claimed = _claimed(warning_claim=token)
    HandoffEvent.objects.bulk_create(
        [HandoffEvent(handoff=h, kind=HandoffEventKind.WARNED, at=at, detail=f"due {h.due_at:%Y-%m-%d %H:%M} UTC") for h in claimed]
    )
    by_recipient: dict[int, tuple[User, list[Handoff]]] = {}
    managers = None
    for handoff in claimed:
        recipients = [handoff.owner] if handoff.owner_id else (managers := managers or _managers())
        for user in recipients:
            by_recipient.setdefault(user.pk, (user, []))[1].append(handoff)
    for user, items in by_recipient.values():
        first = items[0]
        title = (
            f"SLA warning: respond to {first.contact} by {first.due_at:%Y-%m-%d %H:%M} UTC"
            if len(items) == 1 else f"SLA warning: {len(items)} leads are near their deadline"
        )
        body = "\n".join(f"{h.contact}: due {h.due_at:%Y-%m-%d %H:%M} UTC" for h in items[:50])
        send_notice(recipients=[user], kind="handoff.warning", title=title, body=body, url="/handoffs/")
    return claimed


def _claim_breaches(at: datetime, batch_size: int, result: SweepResult) -> list[Handoff]:
    token = uuid.uuid4().hex
    due = Q(status=HandoffStatus.OPEN, breached=False, first_response_at__isnull=True, due_at__lte=at)
    ids = _lock_due(Handoff.objects.filter(due).order_by("due_at"), batch_size)
    if not ids:
        return []
    Handoff.objects.filter(due, id__in=ids).update(breached=True, breached_at=at, breach_claim=token)
    claimed = _claimed(breach_claim=token)
    HandoffEvent.objects.bulk_create(
        [HandoffEvent(handoff=h, kind=HandoffEventKind.BREACHED, at=at,
                      detail=f"no response by {h.due_at:%Y-%m-%d %H:%M} UTC" + (f" from {h.owner.display_name}" if h.owner_id else ""))
         for h in claimed]
    )
    to_owner: dict[int, tuple[User, list[Handoff]]] = {}
    to_managers: dict[str, list[Handoff]] = defaultdict(list)
    for handoff in claimed:
        if handoff.owner_id:
            to_owner.setdefault(handoff.owner_id, (handoff.owner, []))[1].append(handoff)
        if handoff.owner_id is None or handoff.policy is None or handoff.policy.notify_manager_on_breach:
            to_managers[handoff.team].append(handoff)
    for user, items in to_owner.values():
        title = f"SLA breached: {items[0].contact}" if len(items) == 1 else f"SLA breached on {len(items)} of your leads"
        send_notice(recipients=[user], kind="handoff.breach", title=title,
                    body="\n".join(f"{h.contact}: was due {h.due_at:%Y-%m-%d %H:%M} UTC" for h in items[:50]), url="/handoffs/")
    for team, items in to_managers.items():
        title = (
            f"SLA breached: {items[0].contact} ({items[0].owner.display_name if items[0].owner_id else 'unassigned'})"
            if len(items) == 1 else f"SLA breached on {len(items)} leads"
        )
        body = "\n".join(
            f"{h.contact} — {h.owner.display_name if h.owner_id else 'unassigned'}, due {h.due_at:%Y-%m-%d %H:%M} UTC"
            for h in items[:50]
        )
        send_notice(recipients=_managers(team) or _managers(), kind="handoff.breach", title=title, body=body,
                    url="/handoffs/board/")
    reassign = [h for h in claimed if h.policy is not None and h.policy.reassign_on_breach]
    if reassign:
        result.reassigned += _reassign_after_breach(reassign, at)
    return claimed


def _reassign_after_breach(handoffs: list[Handoff], at: datetime) -> int:
    contacts = list(
        Contact.objects.filter(pk__in=[h.contact_id for h in handoffs]).select_related("account", "account__owner")
    )
    routes = route_contacts(contacts=contacts, exclude_user_ids={h.owner_id for h in handoffs if h.owner_id})
    moved = []
    for handoff in handoffs:
        route = routes[handoff.contact_id]
        if route.user is None or route.user.pk == handoff.owner_id:
            continue
        handoff.owner, handoff.routing_rule = route.user, route.rule
        handoff.routing_reason = f"reassigned after breach — {route.reason}"[:300]
        moved.append(handoff)
    Handoff.objects.bulk_update(moved, ["owner", "routing_rule", "routing_reason"])
    HandoffEvent.objects.bulk_create(
        [HandoffEvent(handoff=h, kind=HandoffEventKind.REASSIGNED, at=at, detail=h.routing_reason) for h in moved]
    )
    _set_contact_owners(moved)
    _tell_new_owners(moved, kind="handoff.reassigned")
    return len(moved)


def handoffs_sweep(*, at: datetime | None = None, batch_size: int = 1000, max_batches: int | None = None) -> SweepResult:
    """Run the clock once: record responses, then claim due warnings and breaches in batches.

    Each batch is one transaction: claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
    conditional update on SQLite), mark, write the notice ledger, send the notices. A worker
    killed mid-batch rolls the claim back and the next sweep takes the batch again; two
    workers never claim the same row, so no notice goes out twice.
    """
    at = at or now()
    result = SweepResult(responses=handoffs_record_responses(at=at))
    for claim in ("warning", "breach"):
        while max_batches is None or result.batches < max_batches:
            with transaction.atomic():
                claimed = (
                    _claim_warnings(at, batch_size) if claim == "warning" else _claim_breaches(at, batch_size, result)
                )
            if not claimed:
                break
            result.batches += 1
            if claim == "warning":
                result.warned += len(claimed)
            else:
                result.breached += len(claimed)
    return result
