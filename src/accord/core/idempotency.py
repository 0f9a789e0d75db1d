"""The API edge of idempotent creates: read the Idempotency-Key header, run the create once,
replay its response on retries (the record itself is kept by core.services.idempotent_run)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import JsonResponse
from ninja import Header, Schema
from ninja.responses import NinjaJSONEncoder

from accord.core.errors import ValidationFailed
from accord.core.services import IdempotencyConflict, idempotent_run, request_fingerprint

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
DESCRIPTION = (
    f"Send an `{HEADER}` header (at most {MAX_KEY_LENGTH} characters) to make retries safe: a repeat "
    "with the same key returns the first response (header `Idempotent-Replayed: true`) and creates "
    "nothing; the same key with a different body is refused with 422."
)


def key_header():
    """The view parameter: ``idempotency_key: str | None = key_header()``."""
    return Header(None, alias=HEADER, description="makes a retry return the first response")


def idempotent_response(
    request, *, endpoint: str, key: str | None, payload: Schema, run: Callable[[], tuple[int, dict]]
) -> JsonResponse:
    """``run()`` → (status, body as a schema's model_dump()); without a key it simply runs."""

    def run_encoded() -> tuple[int, dict]:
        # Encoded as every other response is, so a replay is byte for byte the first answer.
        status, body = run()
        return status, json.loads(json.dumps(body, cls=NinjaJSONEncoder))

    key = (key or "").strip()
    if not key:
        status, body = run_encoded()
        return JsonResponse(body, status=status)
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed({HEADER: f"is longer than {MAX_KEY_LENGTH} characters"}, location="header")
    try:
        result = idempotent_run(
            user=request.user,
            endpoint=endpoint,
            key=key,
            fingerprint=request_fingerprint(payload.model_dump(mode="json", exclude_unset=True)),
            run=run_encoded,
        )
    except IdempotencyConflict:
        raise ValidationFailed(
            {HEADER: "was already used with a different request body; send a new key for a new request"},
            location="header",
        ) from None
    response = JsonResponse(result.body, status=result.status_code)
    response["Idempotent-Replayed"] = "true" if result.replayed else "false"
    return response
