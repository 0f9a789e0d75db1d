"""Writes for the teams' common ground: responsibilities, comments with @mentions, requests,
shared goals, and the joint meeting with its decisions and action items."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.db import transaction

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team, User
from accord.notifications.services import notify
from accord.teamwork.models import (
    ActionItem,
    Comment,
    Decision,
    DirectoryProfile,
    Goal,
    GoalMetric,
    Meeting,
    MeetingAttendee,
    Mention,
    RequestParticipant,
    RequestStatus,
    Responsibility,
    ResponsibilityArea,
    TeamRequest,
)

MENTION = re.compile(r"(?<![\w.])@([\w.+-]{1,150})")
MAX_COMMENT = 10_000

# What a comment can be about: the model, and where its page is.
COMMENT_TARGETS = {
    "contact": ("crm.Contact", "/contacts/{id}/"),
    "account": ("crm.Account", "/accounts/{id}/"),
    "opportunity": ("crm.Opportunity", "/opportunities/{id}/"),
    "campaign": ("campaigns.Campaign", "/campaigns/{id}/"),
    "handoff": ("handoff.Handoff", "/handoffs/{id}/"),
    "article": ("knowledge.Article", "/knowledge/{id}/"),
    "request": ("teamwork.TeamRequest", "/team/requests/{id}/"),
    "meeting": ("teamwork.Meeting", "/team/meetings/{id}/"),
}


# --- directory ---------------------------------------------------------------------------------


def responsibility_add(*, user: User, area: str, value: str, note: str = "", actor: User) -> Responsibility:
    if actor.pk != user.pk and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("user", "you may change only your own responsibilities")
    errors = {}
    if area not in ResponsibilityArea.values:
        errors["area"] = f"must be one of {', '.join(ResponsibilityArea.values)}"
    value = (value or "").strip()
    if not value:
        errors["value"] = "is required"
    elif len(value) > 100:
        errors["value"] = "is longer than 100 characters"
    if errors:
        raise ValidationFailed(errors)
    responsibility, _ = Responsibility.objects.get_or_create(user=user, area=area, value=value, defaults={"note": note[:200]})
    return responsibility


def responsibility_remove(*, responsibility: Responsibility, actor: User) -> None:
    if actor.pk != responsibility.user_id and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("user", "you may change only your own responsibilities")
    responsibility.delete()


def directory_profile_update(*, user: User, actor: User, values: dict) -> DirectoryProfile:
    if actor.pk != user.pk and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("user", "you may change only your own profile")
    from datetime import time

    errors, clean = {}, {}
    for name in ("work_starts", "work_ends"):
        raw = str(values.get(name) or "").strip()
        if raw:
            try:
                clean[name] = time.fromisoformat(raw)
            except ValueError:
                errors[name] = "is not a time (use HH:MM)"
        else:
            clean[name] = None
    days = "".join(sorted(set(str(values.get("work_days") or "12345"))))
    if not days or any(ch not in "1234567" for ch in days):
        errors["work_days"] = "use ISO weekday numbers 1 (Monday) to 7 (Sunday)"
    if clean.get("work_starts") and clean.get("work_ends") and clean["work_ends"] <= clean["work_starts"]:
        errors["work_ends"] = "must be after work_starts"
    if errors:
        raise ValidationFailed(errors)
    profile, _ = DirectoryProfile.objects.get_or_create(user=user)
    profile.work_starts, profile.work_ends, profile.work_days = clean["work_starts"], clean["work_ends"], days
    profile.location = str(values.get("location") or "")[:100]
    profile.about = str(values.get("about") or "")[:500]
    profile.save()
    away = values.get("is_away")
    if away is not None:
        User.objects.filter(pk=user.pk).update(is_away=away in (True, "on", "true", "1"))
    return profile


# --- conversations -------------------------------------------------------------------------------


def comment_target(target_type: str, target_id: int):
    """The record a comment is about, or ValidationFailed if it is not a commentable record."""
    if target_type not in COMMENT_TARGETS:
        raise ValidationFailed.single("target_type", f"must be one of {', '.join(COMMENT_TARGETS)}")
    try:
        model = apps.get_model(COMMENT_TARGETS[target_type][0])
    except LookupError:
        raise ValidationFailed.single("target_type", f"{target_type} records are not available") from None
    record = model.objects.filter(pk=target_id).first()
    if record is None:
        raise ValidationFailed.single("target_id", f"no {target_type} with id {target_id}")
    return record


def target_url(target_type: str, target_id: int) -> str:
    return COMMENT_TARGETS[target_type][1].format(id=target_id)


def mentioned_users(body: str) -> list[User]:
    """The people @mentioned in a text; unknown names are an error, not silently dropped."""
    from django.db.models import Q

    names = list(dict.fromkeys(match.group(1).rstrip(".").lower() for match in MENTION.finditer(body)))[:50]
    if not names:
        return []
    # Case-insensitive, for people typing @Maria; one query for all names.
    wanted = Q()
    for name in names:
        wanted |= Q(username__iexact=name)
    users = {u.username.lower(): u for u in User.objects.filter(wanted, is_active=True)}
    missing = [name for name in names if name not in users]
    if missing:
        raise ValidationFailed.single("body", f"mentions people who are not in Accord: {', '.join('@' + n for n in missing)}")
    return [users[name] for name in names]


def comment_post(*, target_type: str, target_id: int, body: str, author: User) -> Comment:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed.single("body", "is required")
    if len(body) > MAX_COMMENT:
        raise ValidationFailed.single("body", f"is longer than {MAX_COMMENT:,} characters")
    record = comment_target(target_type, target_id)
    if target_type == "request":
        from accord.teamwork.queries import request_for

        request_for(author, record.pk)  # commenting needs the right to read it
    people = mentioned_users(body)
    with transaction.atomic():
        comment = Comment.objects.create(
            target_type=target_type, target_id=target_id, author=author, body=body, created_at=now()
        )
        Mention.objects.bulk_create([Mention(comment=comment, user=user) for user in people])
        if target_type == "request":
            RequestParticipant.objects.bulk_create(
                [RequestParticipant(request_id=target_id, user=user) for user in people], ignore_conflicts=True
            )
        recipients = [user for user in people if user.pk != author.pk]
        if recipients:
            notify(
                recipients=recipients, kind="mention", title=f"{author.display_name} mentioned you on {target_type} “{record}”"[:200],
                body=body[:1000], url=target_url(target_type, target_id),
            )
    return comment


# --- requests between teams ---------------------------------------------------------------------------


def team_request_raise(
    *, title: str, body: str, actor: User, to_team: str, assignee: User | None = None, private: bool = False
) -> TeamRequest:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "is required"
    elif len(title) > 200:
        errors["title"] = "is longer than 200 characters"
    if to_team not in Team.values:
        errors["to_team"] = f"must be one of {', '.join(Team.values)}"
    if errors:
        raise ValidationFailed(errors)
    people = mentioned_users(body or "")
    with transaction.atomic():
        request = TeamRequest.objects.create(
            title=title, body=body or "", raised_by=actor, from_team=actor.team, to_team=to_team, assignee=assignee,
            private=private, created_at=now(),
        )
        participants = {actor.pk: actor, **{u.pk: u for u in people}}
        if assignee:
            participants[assignee.pk] = assignee
        RequestParticipant.objects.bulk_create([RequestParticipant(request=request, user=u) for u in participants.values()])
        told = [u for u in participants.values() if u.pk != actor.pk]
        if told:
            notify(recipients=told, kind="request", title=f"Request from {actor.display_name}: {title}"[:200],
                   body=body[:1000], url=f"/team/requests/{request.pk}/")
    return request


def team_request_assign(*, request: TeamRequest, assignee: User, actor: User) -> TeamRequest:
    if request.status == RequestStatus.CLOSED:
        raise ValidationFailed.single("status", "the request is closed")
    with transaction.atomic():
        TeamRequest.objects.filter(pk=request.pk).update(assignee=assignee, status=RequestStatus.IN_PROGRESS)
        RequestParticipant.objects.get_or_create(request=request, user=assignee)
        if assignee.pk != actor.pk:
            notify(recipients=[assignee], kind="request", title=f"Assigned to you: {request.title}"[:200],
                   url=f"/team/requests/{request.pk}/")
    request.refresh_from_db()
    return request


def team_request_close(*, request: TeamRequest, resolution: str, actor: User) -> TeamRequest:
    if not (resolution or "").strip():
        raise ValidationFailed.single("resolution", "say how the request was solved (or why not)")
    updated = TeamRequest.objects.filter(pk=request.pk).exclude(status=RequestStatus.CLOSED).update(
        status=RequestStatus.CLOSED, resolution=resolution.strip()[:500], closed_at=now()
    )
    if not updated:
        raise ValidationFailed.single("status", "the request is already closed")
    request.refresh_from_db()
    if request.raised_by_id and request.raised_by_id != actor.pk:
        notify(recipients=[request.raised_by], kind="request", title=f"Closed: {request.title}"[:200],
               body=request.resolution, url=f"/team/requests/{request.pk}/")
    return request


# --- shared goals ------------------------------------------------------------------------------------------


def goal_create(
    *, name: str, metric: str, target, period_start: date, period_end: date, actor: User, industry: str = "", reward: str = ""
) -> Goal:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "is required"
    if metric not in GoalMetric.values:
        errors["metric"] = f"must be one of {', '.join(GoalMetric.values)}"
    try:
        amount = Decimal(str(target))
        if amount <= 0:
            errors["target"] = "must be more than zero"
        elif metric in (GoalMetric.MQL_ACCEPTANCE_RATE, GoalMetric.SLA_COMPLIANCE) and amount > 100:
            errors["target"] = "is a percentage: at most 100"
    except (InvalidOperation, ValueError):
        errors["target"] = "is not a number"
    if period_start and period_end:
        if period_end < period_start:
            errors["period_end"] = "must not be before period_start"
        elif period_end - period_start > timedelta(days=731):
            errors["period_end"] = "a goal spans at most two years"
    if errors:
        raise ValidationFailed(errors)
    return Goal.objects.create(
        name=name.strip()[:200], metric=metric, target=amount, period_start=period_start, period_end=period_end,
        industry=(industry or "").strip()[:100], reward=(reward or "").strip()[:300], created_by=actor, created_at=now(),
    )


# --- the joint meeting ---------------------------------------------------------------------------------------


def meeting_create(*, title: str, held_on: date, actor: User) -> Meeting:
    from accord.teamwork.agenda import agenda_build

    if not (title or "").strip():
        raise ValidationFailed.single("title", "is required")
    previous = Meeting.objects.filter(held_on__lt=held_on).order_by("-held_on").first()
    covers_from = previous.held_on if previous else held_on - timedelta(days=30)
    meeting = Meeting.objects.create(
        title=title.strip()[:200], held_on=held_on, covers_from=covers_from, agenda=agenda_build(since=covers_from, until=held_on),
        created_by=actor, created_at=now(),
    )
    MeetingAttendee.objects.create(meeting=meeting, user=actor)
    return meeting


def meeting_refresh_agenda(*, meeting: Meeting) -> Meeting:
    from accord.teamwork.agenda import agenda_build

    meeting.agenda = agenda_build(since=meeting.covers_from, until=meeting.held_on)
    meeting.save(update_fields=["agenda"])
    return meeting


def meeting_attend(*, meeting: Meeting, user: User) -> None:
    MeetingAttendee.objects.get_or_create(meeting=meeting, user=user)


def meeting_notes_save(*, meeting: Meeting, notes: str) -> Meeting:
    if len(notes or "") > 50_000:
        raise ValidationFailed.single("notes", "are longer than 50,000 characters")
    meeting.notes = notes or ""
    meeting.save(update_fields=["notes"])
    return meeting


def decision_record(*, meeting: Meeting, text: str) -> Decision:
    if not (text or "").strip():
        raise ValidationFailed.single("text", "is required")
    return Decision.objects.create(meeting=meeting, text=text.strip()[:500], created_at=now())


def action_item_add(*, meeting: Meeting, text: str, owner: User | None, due_on: date | None, actor: User) -> ActionItem:
    errors = {}
    if not (text or "").strip():
        errors["text"] = "is required"
    if owner is None:
        errors["owner"] = "choose who owns it"
    if due_on is None:
        errors["due_on"] = "is required"
    elif due_on < meeting.held_on:
        errors["due_on"] = "must not be before the meeting"
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        item = ActionItem.objects.create(meeting=meeting, text=text.strip()[:300], owner=owner, due_on=due_on, created_at=now())
        notify(
            recipients=[owner], kind="action_item", title=f"Action item from “{meeting.title}”: {item.text}"[:200],
            body=f"Due {due_on:%Y-%m-%d}. Assigned by {actor.display_name}.", url=f"/team/meetings/{meeting.pk}/",
        )
    return item


def action_item_done(*, item: ActionItem, actor: User) -> ActionItem:
    if actor.pk != item.owner_id and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("owner", "only the owner or a manager marks it done")
    ActionItem.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=now())
    item.refresh_from_db()
    return item
