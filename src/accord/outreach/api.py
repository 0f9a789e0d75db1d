"""Outreach API: segments with live counts, templates, sends with their preview, consent, bounces."""

from __future__ import annotations

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.crm.models import Contact
from accord.outreach import queries
from accord.outreach.models import EmailSend, EmailTemplate, Segment, SubscriptionTopic
from accord.outreach.policy import policy_in_force
from accord.outreach.segments import definition_summary, segment_contacts, segment_definition_clean
from accord.outreach.services import (
    bounce_record,
    contact_policy_update,
    contact_suppress,
    contact_unsuppress,
    email_send_create,
    email_send_preview,
    email_send_schedule,
    email_template_save,
    planned_outreach_create,
    segment_save,
)

router = Router(tags=["outreach"])


class DefinitionIn(Schema):
    definition: dict = Field(default_factory=dict)


class SegmentIn(Schema):
    name: str = Field(max_length=120)
    description: str = Field("", max_length=300)
    definition: dict = Field(default_factory=dict)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    definition: dict
    summary: str
    team: str


class CountOut(Schema):
    count: int


class TemplateIn(Schema):
    name: str = Field(max_length=120)
    subject: str = Field(max_length=200)
    body_text: str = Field(max_length=100_000)
    body_html: str = Field("", max_length=200_000)


class TemplateOut(Schema):
    id: int
    name: str
    subject: str
    body_text: str
    body_html: str


class SendIn(Schema):
    name: str = Field(max_length=200)
    segment_id: int
    template_id: int
    campaign_id: int | None = None
    topic_id: int | None = None
    promotional: bool = True
    tracking: bool = False


class SendOut(Schema):
    id: int
    name: str
    status: str
    segment_id: int
    template_id: int
    campaign_id: int | None
    scheduled_for: datetime | None
    recipients: dict[str, int]


class PreviewOut(Schema):
    audience: int
    will_receive: int
    held: int
    suppressed: int
    reasons: dict[str, int]
    sales_collisions: int
    planned_collisions: list[str]


class ScheduleIn(Schema):
    scheduled_for: datetime


class SuppressIn(Schema):
    reason: str = "manual"
    note: str = Field("", max_length=500)


class UnsuppressIn(Schema):
    note: str = Field(max_length=500)


class BounceIn(Schema):
    message_id: str = Field(max_length=200)
    permanent: bool = True
    detail: str = Field("", max_length=500)


class PolicyIO(Schema):
    max_promotions: int
    window_days: int
    quiet_days_after_meeting: int
    count_sales_touches: bool
    pause_during_sales_cycle: bool


class PlannedIn(Schema):
    title: str = Field(max_length=200)
    kind: str = Field("email", max_length=24)
    starts_on: date
    ends_on: date | None = None
    contact_id: int | None = None
    segment_id: int | None = None


class PlannedOut(Schema):
    id: int
    title: str
    team: str
    kind: str
    starts_on: date
    ends_on: date
    contact_id: int | None
    segment_id: int | None


class ConsentOut(Schema):
    contact_id: int
    do_not_contact: bool


def _segment_out(segment: Segment) -> dict:
    return {
        "id": segment.pk, "name": segment.name, "description": segment.description, "definition": segment.definition,
        "summary": definition_summary(segment.definition), "team": segment.team,
    }


def _send_out(send: EmailSend) -> dict:
    return {
        "id": send.pk, "name": send.name, "status": send.status, "segment_id": send.segment_id,
        "template_id": send.template_id, "campaign_id": send.campaign_id, "scheduled_for": send.scheduled_for,
        "recipients": queries.send_recipient_counts(send),
    }


@router.get("/segments", response=list[SegmentOut])
def segments_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [_segment_out(s) for s in Segment.objects.all()[:500]]


@router.post("/segments/count", response=CountOut)
def segments_count(request, payload: DefinitionIn):
    """How many contacts a definition matches right now (the live count on the segment form)."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    return {"count": segment_contacts(segment_definition_clean(payload.definition)).count()}


@router.post("/segments", response={201: SegmentOut})
def segments_create(request, payload: SegmentIn):
    require_perm(request.user, Perm.MANAGE_SEGMENTS)
    segment = segment_save(name=payload.name, description=payload.description, definition=payload.definition, actor=request.user)
    return 201, _segment_out(segment)


@router.get("/segments/{segment_id}", response=SegmentOut)
def segments_read(request, segment_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _segment_out(get_object_or_404(Segment, pk=segment_id))


@router.put("/segments/{segment_id}", response=SegmentOut)
def segments_update(request, segment_id: int, payload: SegmentIn):
    require_perm(request.user, Perm.MANAGE_SEGMENTS)
    segment = get_object_or_404(Segment, pk=segment_id)
    segment_save(
        name=payload.name, description=payload.description, definition=payload.definition, actor=request.user, segment=segment
    )
    return _segment_out(segment)


@router.get("/segments/{segment_id}/count", response=CountOut)
def segments_member_count(request, segment_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return {"count": segment_contacts(get_object_or_404(Segment, pk=segment_id).definition).count()}


@router.get("/templates", response=list[TemplateOut])
def templates_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return list(EmailTemplate.objects.all()[:500])


@router.post("/templates", response={201: TemplateOut})
def templates_create(request, payload: TemplateIn):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    return 201, email_template_save(actor=request.user, **payload.dict())


@router.post("/sends", response={201: SendOut})
def sends_create(request, payload: SendIn):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    errors = {}
    segment = Segment.objects.filter(pk=payload.segment_id).first()
    template = EmailTemplate.objects.filter(pk=payload.template_id).first()
    topic = SubscriptionTopic.objects.filter(pk=payload.topic_id).first() if payload.topic_id else None
    if segment is None:
        errors["segment_id"] = "no segment with this id"
    if template is None:
        errors["template_id"] = "no template with this id"
    if payload.topic_id and topic is None:
        errors["topic_id"] = "no topic with this id"
    campaign = None
    if payload.campaign_id:
        from accord.campaigns.models import Campaign

        campaign = Campaign.objects.filter(pk=payload.campaign_id).first()
        if campaign is None:
            errors["campaign_id"] = "no campaign with this id"
    if errors:
        raise ValidationFailed(errors)
    send = email_send_create(
        name=payload.name, segment=segment, template=template, actor=request.user, campaign=campaign, topic=topic,
        promotional=payload.promotional, tracking=payload.tracking,
    )
    return 201, _send_out(send)


@router.get("/sends/{send_id}", response=SendOut)
def sends_read(request, send_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _send_out(get_object_or_404(EmailSend, pk=send_id))


@router.get("/sends/{send_id}/preview", response=PreviewOut)
def sends_preview(request, send_id: int):
    """Before a send: who receives it, who is held or suppressed and why, what collides."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    preview = email_send_preview(send=get_object_or_404(EmailSend.objects.select_related("segment"), pk=send_id))
    return {
        "audience": preview.audience, "will_receive": preview.will_receive, "held": preview.held,
        "suppressed": preview.suppressed, "reasons": dict(preview.by_code), "sales_collisions": preview.sales_collisions,
        "planned_collisions": [f"{p.title} ({p.starts_on}–{p.ends_on})" for p in preview.planned_collisions],
    }


@router.post("/sends/{send_id}/schedule", response=SendOut)
def sends_schedule(request, send_id: int, payload: ScheduleIn):
    require_perm(request.user, Perm.SEND_CAMPAIGNS)
    send = email_send_schedule(send=get_object_or_404(EmailSend, pk=send_id), scheduled_for=payload.scheduled_for, actor=request.user)
    return _send_out(send)


@router.post("/contacts/{contact_id}/suppress", response=ConsentOut)
def contacts_suppress(request, contact_id: int, payload: SuppressIn):
    require_perm(request.user, Perm.EDIT_CONTACTS)
    contact = get_object_or_404(Contact, pk=contact_id)
    contact_suppress(contact=contact, reason=payload.reason, actor=request.user, note=payload.note)
    return {"contact_id": contact.pk, "do_not_contact": contact.do_not_contact}


@router.post("/contacts/{contact_id}/unsuppress", response=ConsentOut)
def contacts_unsuppress(request, contact_id: int, payload: UnsuppressIn):
    require_perm(request.user, Perm.MANAGE_CONSENT)
    contact = get_object_or_404(Contact, pk=contact_id)
    contact_unsuppress(contact=contact, actor=request.user, note=payload.note)
    return {"contact_id": contact.pk, "do_not_contact": contact.do_not_contact}


@router.post("/bounces", response=ConsentOut)
def bounces_report(request, payload: BounceIn):
    """For the mail provider's bounce webhook (or a bounce-mailbox reader) holding an API token."""
    require_perm(request.user, Perm.MANAGE_CONSENT)
    recipient = bounce_record(message_id=payload.message_id, permanent=payload.permanent, detail=payload.detail)
    suppressed = Contact.objects.filter(pk=recipient.contact_id).values_list("do_not_contact", flat=True).get()
    return {"contact_id": recipient.contact_id, "do_not_contact": suppressed}


@router.get("/policy", response=PolicyIO)
def policy_read(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return policy_in_force()


@router.put("/policy", response=PolicyIO)
def policy_update(request, payload: PolicyIO):
    require_perm(request.user, Perm.MANAGE_CONTACT_POLICY)
    return contact_policy_update(values=payload.dict(), actor=request.user)


@router.post("/planned", response={201: PlannedOut})
def planned_create(request, payload: PlannedIn):
    require_perm(request.user, Perm.LOG_TOUCHPOINTS)
    contact = get_object_or_404(Contact, pk=payload.contact_id) if payload.contact_id else None
    segment = get_object_or_404(Segment, pk=payload.segment_id) if payload.segment_id else None
    planned = planned_outreach_create(
        title=payload.title, kind=payload.kind, starts_on=payload.starts_on, ends_on=payload.ends_on,
        actor=request.user, contact=contact, segment=segment,
    )
    return 201, planned
