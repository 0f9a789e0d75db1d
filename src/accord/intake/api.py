"""POST /api/capture: the capture pipeline over JSON, safe to retry with an Idempotency-Key."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from ninja import Header, Router

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.core.services import IdempotencyConflict, idempotent_run, request_fingerprint
from accord.crm.models import Contact
from accord.intake.leads import lead_from_mapping
from accord.intake.schemas import CaptureIn, CaptureOut
from accord.intake.services import contact_capture

router = Router(tags=["intake"])

_KEY_HEADER = "Idempotency-Key"


def _capture(request, data: dict) -> tuple[int, dict]:
    lead = lead_from_mapping(data, default_region=settings.ACCORD_DEFAULT_PHONE_REGION)
    outcome = contact_capture(lead=lead, actor=request.user)
    contact = Contact.objects.select_related("account", "owner").prefetch_related("interests").get(pk=outcome.contact.pk)
    body = CaptureOut(
        contact=contact,
        created=outcome.created,
        changed_fields=sorted(set(outcome.changed_fields)),
        touchpoint_id=outcome.touchpoint.pk if outcome.touchpoint else None,
    ).model_dump(mode="json")
    return (201 if outcome.created else 200), body


@router.post(
    "/capture",
    response={200: CaptureOut, 201: CaptureOut},
    summary="Capture a lead through the pipeline (201 created, 200 updated)",
    description="Finds the contact by email, creates or updates it (never emptying a filled field), "
    "attaches its account, records a touchpoint with its campaign and moves the lifecycle forward "
    "when asked. Send an `Idempotency-Key` header (at most 200 characters) to make retries safe: "
    "a repeat with the same key returns the first response (header `Idempotent-Replayed: true`) "
    "and creates nothing; the same key with a different body is refused with 422.",
)
def capture(request, payload: CaptureIn, idempotency_key: str | None = Header(None, alias=_KEY_HEADER)):
    require_perm(request.user, Perm.CAPTURE_LEADS)
    data = payload.model_dump(exclude_unset=True)
    key = (idempotency_key or "").strip()
    if not key:
        status, body = _capture(request, data)
        return JsonResponse(body, status=status)
    if len(key) > 200:
        raise ValidationFailed({_KEY_HEADER: "is longer than 200 characters"}, location="header")
    try:
        result = idempotent_run(
            user=request.user,
            endpoint="capture",
            key=key,
            fingerprint=request_fingerprint(payload.model_dump(mode="json", exclude_unset=True)),
            run=lambda: _capture(request, data),
        )
    except IdempotencyConflict:
        raise ValidationFailed(
            {_KEY_HEADER: "was already used with a different request body; send a new key for a new request"},
            location="header",
        ) from None
    response = JsonResponse(result.body, status=result.status_code)
    response["Idempotent-Replayed"] = "true" if result.replayed else "false"
    return response
