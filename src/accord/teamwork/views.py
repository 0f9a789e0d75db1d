"""Pages for the teams' common ground: directory, requests, goals, the joint meeting, comments."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accord.core.errors import ValidationFailed
from accord.core.models import Team, User
from accord.core.permissions import Perm, has_perm, require_perm
from accord.teamwork import queries
from accord.teamwork.models import ActionItem, GoalMetric, Meeting, Responsibility, ResponsibilityArea
from accord.teamwork.services import (
    action_item_add,
    action_item_done,
    comment_post,
    decision_record,
    directory_profile_update,
    goal_create,
    meeting_attend,
    meeting_create,
    meeting_notes_save,
    meeting_refresh_agenda,
    responsibility_add,
    responsibility_remove,
    team_request_assign,
    team_request_close,
    team_request_raise,
)


def _errors_text(failed: ValidationFailed) -> str:
    return "; ".join(f"{field}: {message}" for field, message in failed.errors.items())


def _back(request, default: str):
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = default
    return HttpResponseRedirect(target)


def _day(raw: str, field: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationFailed.single(field, "is not a date (use YYYY-MM-DD)") from None


@login_required
def directory(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    query = request.GET.get("q", "").strip()[:100]
    return render(request, "teamwork/directory.html", {"people": queries.directory(query=query), "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "add_responsibility":
                responsibility_add(
                    user=request.user, area=request.POST.get("area", ""), value=request.POST.get("value", ""),
                    note=request.POST.get("note", ""), actor=request.user,
                )
            elif request.POST.get("action") == "remove_responsibility":
                responsibility = get_object_or_404(Responsibility, pk=request.POST.get("responsibility") or 0)
                responsibility_remove(responsibility=responsibility, actor=request.user)
            else:
                directory_profile_update(user=request.user, actor=request.user, values=request.POST)
            messages.success(request, "Saved.")
        except ValidationFailed as failed:
            messages.error(request, _errors_text(failed))
        return redirect("team_me")
    return render(
        request, "teamwork/me.html",
        {"responsibilities": Responsibility.objects.filter(user=request.user), "areas": ResponsibilityArea.choices,
         "profile": getattr(request.user, "directory_profile", None),
         "actions": queries.open_action_items(request.user)},
    )


@login_required
@require_POST
def comment_new(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    target_type = request.POST.get("target_type", "")
    try:
        target_id = int(request.POST.get("target_id", ""))
    except ValueError:
        messages.error(request, "target_id: is not a record id")
        return _back(request, "/")
    try:
        comment_post(target_type=target_type, target_id=target_id, body=request.POST.get("body", ""), author=request.user)
    except ValidationFailed as failed:
        messages.error(request, _errors_text(failed))
    return _back(request, "/")


@login_required
def request_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    status = request.GET.get("status", "open")
    requests = queries.requests_visible_to(request.user).select_related("raised_by", "assignee")
    if status == "open":
        requests = requests.exclude(status="closed")
    elif status == "closed":
        requests = requests.filter(status="closed")
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    return render(request, "teamwork/requests.html", {"page": page, "status": status, "teams": Team.choices})


@login_required
@require_POST
def request_new(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    assignee = User.objects.filter(pk=request.POST.get("assignee") or 0, is_active=True).first()
    try:
        created = team_request_raise(
            title=request.POST.get("title", ""), body=request.POST.get("body", ""), actor=request.user,
            to_team=request.POST.get("to_team", ""), assignee=assignee, private=request.POST.get("private") == "on",
        )
        return redirect("team_request", request_id=created.pk)
    except ValidationFailed as failed:
        messages.error(request, _errors_text(failed))
        return redirect("team_requests")


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request, request_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    team_request = queries.request_for(request.user, request_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "assign":
                assignee = get_object_or_404(User, pk=request.POST.get("assignee") or 0, is_active=True)
                team_request_assign(request=team_request, assignee=assignee, actor=request.user)
            elif request.POST.get("action") == "close":
                team_request_close(request=team_request, resolution=request.POST.get("resolution", ""), actor=request.user)
            messages.success(request, "Request updated.")
        except ValidationFailed as failed:
            messages.error(request, _errors_text(failed))
        return redirect("team_request", request_id=team_request.pk)
    return render(
        request, "teamwork/request.html",
        {"item": team_request, "comments": queries.comments_on("request", team_request.pk),
         "people": User.objects.filter(is_active=True).order_by("first_name", "username")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def goals(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    if request.method == "POST":
        require_perm(request.user, Perm.MANAGE_GOALS)
        try:
            goal_create(
                name=request.POST.get("name", ""), metric=request.POST.get("metric", ""), target=request.POST.get("target", ""),
                period_start=_day(request.POST.get("period_start"), "period_start"),
                period_end=_day(request.POST.get("period_end"), "period_end"), actor=request.user,
                industry=request.POST.get("industry", ""), reward=request.POST.get("reward", ""),
            )
            messages.success(request, "Goal added. Its progress comes from the records.")
        except ValidationFailed as failed:
            messages.error(request, _errors_text(failed))
        return redirect("team_goals")
    return render(
        request, "teamwork/goals.html",
        {"progress": queries.goals_current(), "metrics": GoalMetric.choices, "can_manage": has_perm(request.user, Perm.MANAGE_GOALS)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def meetings(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    if request.method == "POST":
        require_perm(request.user, Perm.RUN_MEETINGS)
        try:
            meeting = meeting_create(
                title=request.POST.get("title", ""), held_on=_day(request.POST.get("held_on"), "held_on"), actor=request.user
            )
            return redirect("team_meeting", meeting_id=meeting.pk)
        except ValidationFailed as failed:
            messages.error(request, _errors_text(failed))
        return redirect("team_meetings")
    return render(
        request, "teamwork/meetings.html",
        {"meetings": Meeting.objects.all()[:50], "today": timezone.localdate()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_detail(request, meeting_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    meeting = get_object_or_404(Meeting.objects.select_related("created_by"), pk=meeting_id)
    if request.method == "POST":
        require_perm(request.user, Perm.RUN_MEETINGS)
        action = request.POST.get("action", "")
        try:
            if action == "attend":
                meeting_attend(meeting=meeting, user=request.user)
            elif action == "notes":
                meeting_notes_save(meeting=meeting, notes=request.POST.get("notes", ""))
            elif action == "decision":
                decision_record(meeting=meeting, text=request.POST.get("text", ""))
            elif action == "action_item":
                owner = User.objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
                due = _day(request.POST.get("due_on"), "due_on") if request.POST.get("due_on") else None
                action_item_add(meeting=meeting, text=request.POST.get("text", ""), owner=owner, due_on=due, actor=request.user)
            elif action == "done":
                item = get_object_or_404(ActionItem, pk=request.POST.get("item") or 0, meeting=meeting)
                action_item_done(item=item, actor=request.user)
            elif action == "refresh":
                meeting_refresh_agenda(meeting=meeting)
            messages.success(request, "Saved.")
        except ValidationFailed as failed:
            messages.error(request, _errors_text(failed))
        return redirect("team_meeting", meeting_id=meeting.pk)
    return render(
        request, "teamwork/meeting.html",
        {
            "meeting": meeting, "attendees": [a.user for a in meeting.attendees.select_related("user")],
            "decisions": meeting.decisions.all(), "items": meeting.action_items.select_related("owner"),
            "people": User.objects.filter(is_active=True).order_by("first_name", "username"),
            "comments": queries.comments_on("meeting", meeting.pk),
        },
    )
