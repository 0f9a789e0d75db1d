"""POST /api/capture: the capture pipeline over JSON, safe to retry with an Idempotency-Key."""

from __future__ import annotations

from django.conf import settings
from ninja import Router

from accord.core import idempotency
from accord.core.permissions import Perm, require_perm
from accord.crm.models import Contact
from accord.intake.leads import lead_from_mapping
from accord.intake.schemas import CaptureIn, CaptureOut
from accord.intake.services import contact_capture

router = Router(tags=["intake"])


@router.post(
    "/capture",
    response={200: CaptureOut, 201: CaptureOut},
    summary="Capture a lead through the pipeline (201 created, 200 updated)",
    description="Finds the contact by email, creates or updates it (never emptying a filled field), "
    "attaches its account, records a touchpoint with its campaign and moves the lifecycle forward "
    "when asked. " + idempotency.DESCRIPTION,
)
def capture(request, payload: CaptureIn, idempotency_key: str | None = idempotency.key_header()):
    require_perm(request.user, Perm.CAPTURE_LEADS)

    def run() -> tuple[int, dict]:
        data = payload.model_dump(exclude_unset=True)
        lead = lead_from_mapping(data, default_region=settings.ACCORD_DEFAULT_PHONE_REGION)
        outcome = contact_capture(lead=lead, actor=request.user)
        contacts = Contact.objects.select_related("account", "owner").prefetch_related("interests")
        contact = contacts.get(pk=outcome.contact.pk)
        body = CaptureOut(
            contact=contact,
            created=outcome.created,
            changed_fields=sorted(set(outcome.changed_fields)),
            touchpoint_id=outcome.touchpoint.pk if outcome.touchpoint else None,
        )
        return (201 if outcome.created else 200), body.model_dump()

    return idempotency.idempotent_response(request, endpoint="capture", key=idempotency_key, payload=payload, run=run)
