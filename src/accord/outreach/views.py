"""Outreach pages: the shared calendar, segments, templates, sends, the contact policy,
and the two public endpoints a customer's mail client reaches (unsubscribe, tracking)."""

from __future__ import annotations

import base64
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accord.campaigns.models import Campaign, TouchpointKind
from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, has_perm, require_perm
from accord.crm.models import Contact
from accord.outreach import queries
from accord.outreach.models import EmailSend, EmailTemplate, Segment, SubscriptionTopic, SuppressionReason
from accord.outreach.policy import policy_in_force
from accord.outreach.segments import definition_summary, segment_contacts
from accord.outreach.services import (
    contact_policy_update,
    contact_suppress,
    contact_unsuppress,
    email_send_cancel,
    email_send_create,
    email_send_preview,
    email_send_schedule,
    email_template_save,
    planned_outreach_create,
    promotion_allow,
    promotion_disallow,
    segment_save,
    tracking_record,
    unsubscribe_by_token,
    unsubscribe_token_read,
)
from accord.outreach.tracking import tracking_token_read

SEGMENT_LIST_FIELDS = ("stages", "grades", "industries", "countries", "interests_any", "interests_all", "touched_kinds", "campaign_ids", "owner_ids")
SEGMENT_NUMBER_FIELDS = ("min_score", "max_score", "min_employees", "max_employees", "touched_within_days")
# A transparent 1×1 GIF for the open pixel.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@login_required
def outreach_calendar(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
        month = int(request.GET.get("month", today.month))
        first = date(year, month, 1)
    except ValueError:
        raise Http404("No such month.") from None
    previous = date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    weeks = queries.outreach_calendar(year=year, month=month)
    collisions = sum(1 for week in weeks for day in week if day.in_month for item in day.items if item.colliding)
    return render(
        request,
        "outreach/calendar.html",
        {
            "weeks": weeks, "month": first, "previous": previous, "following": following, "today": today,
            "collisions": collisions, "can_plan": True,
        },
    )


@login_required
@require_POST
def planned_outreach_new(request):
    require_perm(request.user, Perm.LOG_TOUCHPOINTS)
    data = request.POST
    contact = Contact.objects.filter(pk=data.get("contact") or 0).first() if data.get("contact") else None
    segment = Segment.objects.filter(pk=data.get("segment") or 0).first() if data.get("segment") else None
    try:
        starts_on = _day(data.get("starts_on"), "starts_on")
        ends_on = _day(data.get("ends_on"), "ends_on") if data.get("ends_on") else None
        planned_outreach_create(
            title=data.get("title", ""), kind=data.get("kind", "email"), starts_on=starts_on, ends_on=ends_on,
            actor=request.user, contact=contact, segment=segment,
        )
        messages.success(request, "Planned outreach added to the calendar.")
    except ValidationFailed as failed:
        messages.error(request, "; ".join(f"{k}: {v}" for k, v in failed.errors.items()))
    return _back(request, "/outreach/")


def _day(raw, field) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationFailed.single(field, "is not a date (use YYYY-MM-DD)") from None


def _back(request, default: str):
    target = request.POST.get("next", "")
    # Only same-site paths: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = default
    return HttpResponseRedirect(target)


# --- segments ----------------------------------------------------------------------------------


@login_required
def segment_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    segments = Segment.objects.select_related("owner")
    rows = [{"segment": s, "summary": definition_summary(s.definition)} for s in segments]
    return render(request, "outreach/segment_list.html", {"rows": rows})


def _definition_from_form(data) -> dict:
    definition: dict[str, object] = {}
    for name in SEGMENT_LIST_FIELDS:
        values = [part.strip() for raw in data.getlist(name) for part in raw.split(",") if part.strip()]
        if values:
            definition[name] = values
    for name in SEGMENT_NUMBER_FIELDS:
        if (data.get(name) or "").strip():
            definition[name] = data.get(name).strip()
    return definition


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, segment_id: int | None = None):
    require_perm(request.user, Perm.MANAGE_SEGMENTS)
    segment = get_object_or_404(Segment, pk=segment_id) if segment_id else None
    errors: dict[str, str] = {}
    form = dict(segment.definition) if segment else {}
    if request.method == "POST":
        form = _definition_from_form(request.POST)
        try:
            segment = segment_save(
                name=request.POST.get("name", ""), description=request.POST.get("description", ""),
                definition=form, actor=request.user, segment=segment,
            )
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("outreach_segment", segment_id=segment.pk)
        except ValidationFailed as failed:
            errors = {key.removeprefix("definition."): value for key, value in failed.errors.items()}
    values = {key: ", ".join(map(str, value)) if isinstance(value, list) else value for key, value in form.items()}
    return render(
        request,
        "outreach/segment_form.html",
        {
            "segment": segment, "values": values, "errors": errors,
            "name": request.POST.get("name", segment.name if segment else ""),
            "description": request.POST.get("description", segment.description if segment else ""),
            "touch_kinds": TouchpointKind.values,
        },
    )


@login_required
def segment_detail(request, segment_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    segment = get_object_or_404(Segment.objects.select_related("owner"), pk=segment_id)
    members = segment_contacts(segment.definition).select_related("account", "owner").order_by("-score", "-id")
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/segment_detail.html",
        {"segment": segment, "summary": definition_summary(segment.definition), "page": page, "count": page.paginator.count},
    )


# --- templates -----------------------------------------------------------------------------------


@login_required
def template_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return render(request, "outreach/template_list.html", {"templates": EmailTemplate.objects.select_related("created_by")})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int | None = None):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    template = get_object_or_404(EmailTemplate, pk=template_id) if template_id else None
    errors: dict[str, str] = {}
    values = {
        "name": template.name if template else "",
        "subject": template.subject if template else "",
        "body_text": template.body_text if template else "",
        "body_html": template.body_html if template else "",
    }
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        try:
            email_template_save(actor=request.user, template=template, **values)
            messages.success(request, "Template saved.")
            return redirect("outreach_templates")
        except ValidationFailed as failed:
            errors = failed.errors
    from accord.outreach.rendering import PLACEHOLDERS

    return render(
        request, "outreach/template_form.html",
        {"template": template, "values": values, "errors": errors, "placeholders": PLACEHOLDERS},
    )


# --- sends -------------------------------------------------------------------------------------------


@login_required
def send_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    page = Paginator(queries.sends_with_counts(), 25).get_page(request.GET.get("page"))
    return render(request, "outreach/send_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def send_new(request):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = request.POST
        segment = Segment.objects.filter(pk=data.get("segment") or 0).first()
        template = EmailTemplate.objects.filter(pk=data.get("template") or 0).first()
        if segment is None:
            errors["segment"] = "choose a segment"
        if template is None:
            errors["template"] = "choose a template"
        if not errors:
            try:
                send = email_send_create(
                    name=data.get("name", ""), segment=segment, template=template, actor=request.user,
                    campaign=Campaign.objects.filter(pk=data.get("campaign") or 0).first(),
                    topic=SubscriptionTopic.objects.filter(pk=data.get("topic") or 0).first(),
                    promotional=data.get("promotional") == "on", tracking=data.get("tracking") == "on",
                )
                return redirect("outreach_send", send_id=send.pk)
            except ValidationFailed as failed:
                errors = failed.errors
    return render(
        request,
        "outreach/send_form.html",
        {
            "errors": errors, "data": request.POST, "segments": Segment.objects.all(),
            "templates": EmailTemplate.objects.all(), "campaigns": Campaign.objects.all()[:200],
            "topics": SubscriptionTopic.objects.all(),
        },
    )


@login_required
def send_detail(request, send_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    send = get_object_or_404(EmailSend.objects.select_related("segment", "template", "campaign", "topic"), pk=send_id)
    preview = email_send_preview(send=send) if send.status in ("draft", "scheduled") else None
    counts = queries.send_recipient_counts(send)
    held = send.recipients.filter(status__in=("held", "suppressed", "bounced", "failed")).select_related("contact")[:50]
    return render(
        request,
        "outreach/send_detail.html",
        {
            "send": send, "preview": preview, "counts": counts, "held": held,
            "can_send": has_perm(request.user, Perm.SEND_CAMPAIGNS),
            "summary": definition_summary(send.segment.definition),
        },
    )


@login_required
@require_POST
def send_schedule(request, send_id: int):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    send = get_object_or_404(EmailSend, pk=send_id)
    try:
        raw = request.POST.get("scheduled_for", "").strip()
        when = timezone.now()
        if raw:
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                raise ValidationFailed.single("scheduled_for", "is not a date and time") from None
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        email_send_schedule(send=send, scheduled_for=when, actor=request.user)
        messages.success(request, f"Scheduled for {timezone.localtime(when):%Y-%m-%d %H:%M}; the worker delivers it.")
    except ValidationFailed as failed:
        messages.error(request, "; ".join(f"{k}: {v}" for k, v in failed.errors.items()))
    return redirect("outreach_send", send_id=send.pk)


@login_required
@require_POST
def send_cancel(request, send_id: int):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    send = get_object_or_404(EmailSend, pk=send_id)
    try:
        email_send_cancel(send=send, actor=request.user)
        messages.success(request, "Send cancelled.")
    except ValidationFailed as failed:
        messages.error(request, failed.errors.get("status", "Could not cancel."))
    return redirect("outreach_send", send_id=send.pk)


# --- policy and consent ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    policy = policy_in_force()
    errors: dict[str, str] = {}
    if request.method == "POST":
        require_perm(request.user, Perm.MANAGE_CONTACT_POLICY)
        try:
            contact_policy_update(values=request.POST, actor=request.user)
            messages.success(request, "Contact policy updated for both teams.")
            return redirect("outreach_policy")
        except ValidationFailed as failed:
            errors = failed.errors
    return render(
        request, "outreach/policy.html",
        {"policy": policy, "errors": errors, "can_edit": has_perm(request.user, Perm.MANAGE_CONTACT_POLICY)},
    )


@login_required
@require_POST
def contact_consent(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    action = request.POST.get("action", "")
    try:
        if action == "suppress":
            require_perm(request.user, Perm.EDIT_CONTACTS)
            contact_suppress(
                contact=contact, reason=request.POST.get("reason", SuppressionReason.MANUAL), actor=request.user,
                note=request.POST.get("note", ""),
            )
        elif action == "unsuppress":
            require_perm(request.user, Perm.MANAGE_CONSENT)
            contact_unsuppress(contact=contact, actor=request.user, note=request.POST.get("note", ""))
        elif action == "allow_promotions":
            require_perm(request.user, Perm.EDIT_CONTACTS)
            promotion_allow(contact=contact, actor=request.user)
        elif action == "pause_promotions":
            require_perm(request.user, Perm.EDIT_CONTACTS)
            promotion_disallow(contact=contact)
        else:
            raise ValidationFailed.single("action", "is not a consent action")
        messages.success(request, "Consent updated.")
    except ValidationFailed as failed:
        messages.error(request, "; ".join(f"{k}: {v}" for k, v in failed.errors.items()))
    return _back(request, f"/contacts/{contact.pk}/")


# --- public: reached from a customer's mailbox, no login ------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows one button (link scanners must not unsubscribe people); POST does it.

    POST is also RFC 8058 one-click unsubscribe from the mail client, which sends no CSRF token.
    """
    try:
        contact, topic = unsubscribe_token_read(token)
    except ValidationFailed as failed:
        return render(request, "outreach/unsubscribe.html", {"error": failed.errors["token"]}, status=400)
    done = False
    if request.method == "POST":
        unsubscribe_by_token(token=token, everything=request.POST.get("everything") == "on")
        done = True
    return render(
        request, "outreach/unsubscribe.html",
        {"topic": topic, "done": done, "masked_email": _mask(contact.email), "everything": request.POST.get("everything") == "on"},
    )


def _mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}" if domain else ""


def track_open(request, token: str):
    data = tracking_token_read(token)
    if data and "r" in data:
        tracking_record(recipient_id=int(data["r"]), kind=TouchpointKind.EMAIL_OPENED)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


def track_click(request, token: str):
    data = tracking_token_read(token)
    if not data or not str(data.get("u", "")).startswith(("http://", "https://")):
        raise Http404("This link is not valid.")
    tracking_record(recipient_id=int(data["r"]), kind=TouchpointKind.EMAIL_CLICKED, url=data["u"])
    # The target was signed when the email was rendered, so this is not an open redirect.
    return HttpResponseRedirect(data["u"])

