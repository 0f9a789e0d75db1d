"""Common-ground API: directory search, comments with @mentions, requests, goals, meetings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from accord.core.models import User
from accord.core.permissions import Perm, require_perm
from accord.teamwork import queries
from accord.teamwork.models import Goal, Meeting
from accord.teamwork.services import (
    action_item_add,
    comment_post,
    goal_create,
    meeting_create,
    team_request_close,
    team_request_raise,
)

router = Router(tags=["teamwork"])


class PersonOut(Schema):
    id: int
    username: str
    name: str
    team: str
    role: str
    is_away: bool
    responsibilities: list[str]


class CommentIn(Schema):
    target_type: str = Field(max_length=32)
    target_id: int
    body: str = Field(max_length=10_000)


class CommentOut(Schema):
    id: int
    author: str | None
    body: str
    mentions: list[str]
    created_at: datetime


class RequestIn(Schema):
    title: str = Field(max_length=200)
    body: str = Field("", max_length=10_000)
    to_team: str
    assignee_id: int | None = None
    private: bool = False


class RequestOut(Schema):
    id: int
    title: str
    status: str
    from_team: str
    to_team: str
    assignee_id: int | None
    private: bool
    resolution: str


class CloseIn(Schema):
    resolution: str = Field(max_length=500)


class GoalIn(Schema):
    name: str = Field(max_length=200)
    metric: str
    target: Decimal
    period_start: date
    period_end: date
    industry: str = Field("", max_length=100)
    reward: str = Field("", max_length=300)


class GoalOut(Schema):
    id: int
    name: str
    metric: str
    target: Decimal
    value: Decimal | None
    percent: int
    reached: bool
    contributors: list[dict]


class MeetingIn(Schema):
    title: str = Field(max_length=200)
    held_on: date


class MeetingOut(Schema):
    id: int
    title: str
    held_on: date
    covers_from: date
    agenda: list[dict]


class ActionIn(Schema):
    text: str = Field(max_length=300)
    owner_id: int
    due_on: date


def _goal_out(progress) -> dict:
    return {
        "id": progress.goal.pk, "name": progress.goal.name, "metric": progress.goal.metric, "target": progress.goal.target,
        "value": progress.value, "percent": progress.percent, "reached": progress.reached,
        "contributors": [{"who": name, "team": team, "amount": float(amount)} for name, team, amount in progress.contributors],
    }


@router.get("/directory", response=list[PersonOut])
def directory_search(request, q: str = Query("", max_length=100)):
    """"Who do I ask about X": people whose responsibilities, name, title or team match."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [
        {"id": p.pk, "username": p.username, "name": p.display_name, "team": p.team, "role": p.role, "is_away": p.is_away,
         "responsibilities": [f"{r.area}: {r.value}" for r in p.responsibilities.all()]}
        for p in queries.directory(query=q)[:100]
    ]


@router.get("/comments", response=list[CommentOut])
def comments_list(request, target_type: str, target_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    if target_type == "request":
        queries.request_for(request.user, target_id)
    return [
        {"id": c.pk, "author": c.author.username if c.author else None, "body": c.body,
         "mentions": [m.user.username for m in c.mentions.all()], "created_at": c.created_at}
        for c in queries.comments_on(target_type, target_id)
    ]


@router.post("/comments", response={201: CommentOut})
def comments_create(request, payload: CommentIn):
    require_perm(request.user, Perm.VIEW_RECORDS)
    comment = comment_post(target_type=payload.target_type, target_id=payload.target_id, body=payload.body, author=request.user)
    return 201, {"id": comment.pk, "author": request.user.username, "body": comment.body,
                 "mentions": [m.user.username for m in comment.mentions.select_related("user")], "created_at": comment.created_at}


@router.post("/requests", response={201: RequestOut})
def requests_create(request, payload: RequestIn):
    require_perm(request.user, Perm.VIEW_RECORDS)
    assignee = get_object_or_404(User, pk=payload.assignee_id, is_active=True) if payload.assignee_id else None
    return 201, team_request_raise(
        title=payload.title, body=payload.body, actor=request.user, to_team=payload.to_team, assignee=assignee, private=payload.private
    )


@router.get("/requests/{request_id}", response=RequestOut)
def requests_read(request, request_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return queries.request_for(request.user, request_id)


@router.post("/requests/{request_id}/close", response=RequestOut)
def requests_close(request, request_id: int, payload: CloseIn):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return team_request_close(request=queries.request_for(request.user, request_id), resolution=payload.resolution, actor=request.user)


@router.get("/goals", response=list[GoalOut])
def goals_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [_goal_out(p) for p in queries.goals_current()]


@router.post("/goals", response={201: GoalOut})
def goals_create(request, payload: GoalIn):
    require_perm(request.user, Perm.MANAGE_GOALS)
    goal = goal_create(actor=request.user, **payload.dict())
    return 201, _goal_out(queries.goal_progress(goal))


@router.get("/goals/{goal_id}", response=GoalOut)
def goals_read(request, goal_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _goal_out(queries.goal_progress(get_object_or_404(Goal, pk=goal_id)))


@router.post("/meetings", response={201: MeetingOut})
def meetings_create(request, payload: MeetingIn):
    require_perm(request.user, Perm.RUN_MEETINGS)
    return 201, meeting_create(title=payload.title, held_on=payload.held_on, actor=request.user)


@router.get("/meetings/{meeting_id}", response=MeetingOut)
def meetings_read(request, meeting_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return get_object_or_404(Meeting, pk=meeting_id)


@router.post("/meetings/{meeting_id}/actions", response={201: dict})
def meetings_action_add(request, meeting_id: int, payload: ActionIn):
    require_perm(request.user, Perm.RUN_MEETINGS)
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
    item = action_item_add(meeting=meeting, text=payload.text, owner=owner, due_on=payload.due_on, actor=request.user)
    return 201, {"id": item.pk, "owner_id": item.owner_id, "due_on": str(item.due_on)}
