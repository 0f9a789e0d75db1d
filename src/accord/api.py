"""The JSON API: one NinjaAPI, token or session authentication, errors that name the field.

Each app adds its router in ``register_routers``. Endpoints stay thin: parse with a schema,
check the role with ``require_perm``, call one service, return an output schema.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from accord.core.errors import ValidationFailed
from accord.core.models import ApiToken, hash_token
from accord.core.queries import token_owner


def user_for_token(raw: str):
    """The active user owning an unrevoked token, or None. Only hashes are compared."""
    if not raw or len(raw) > 200:
        return None
    moment = timezone.now()
    # Writing on every call would serialize readers on SQLite; a minute's precision is enough.
    found = token_owner(token_hash=hash_token(raw), used_before=moment - timedelta(seconds=60))
    if found is None:
        return None
    user, token_id, stale = found
    if stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=moment)
    return user


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class TokenHeader(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request, key):
        user = user_for_token(key or "")
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Accord API",
    version="1",
    description="The shared customer record of Marketing and Sales. Authenticate with "
    "`Authorization: Bearer <token>` (create a token on your profile page or with "
    "`accord token create USERNAME`), or with the session cookie of a signed-in browser.",
    auth=[BearerToken(), TokenHeader(), django_auth],
    urls_namespace="api",
)


def field_errors(errors: dict[str, str], location: str = "body") -> dict:
    return {"detail": [{"loc": [location, name], "msg": message, "type": "value_error"} for name, message in errors.items()]}


@api.exception_handler(ValidationFailed)
def _validation_failed(request, exc: ValidationFailed):
    return api.create_response(request, field_errors(exc.errors, exc.location), status=422)


def _request_error(error: dict) -> dict:
    """Ninja's error about a request part, in the shape ValidationFailed gives: the location
    then the field as the client sent it (ninja adds the view's parameter name in between)."""
    loc = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    kind = error.get("type", "value_error")
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a field this endpoint accepts"
    if len(loc) >= 3 and loc[0] in ("body", "query", "header", "path", "form"):
        loc = [loc[0], *loc[2:]]
    elif len(loc) == 2 and loc[0] == "body":  # the body as a whole: missing, or not an object
        loc, message = ["body"], "must be a JSON object"
    return {"loc": loc, "msg": message, "type": kind}


@api.exception_handler(RequestInvalid)
def _request_invalid(request, exc: RequestInvalid):
    return api.create_response(request, {"detail": [_request_error(error) for error in exc.errors]}, status=422)


@api.exception_handler(PermissionDenied)
def _permission_denied(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Your role may not do this."}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Authentication required: send a valid API token."}, status=401)


# Every app's router and its prefix, fixed here so apps never collide.
ROUTERS = (
    ("core", "/"),
    ("crm", "/"),
    ("campaigns", "/campaigns"),
    ("intake", "/"),
    ("integrations", "/"),
    ("scoring", "/scoring"),
    ("dedup", "/dedup"),
    ("handoff", "/handoffs"),
    ("reports", "/reports"),
    ("outreach", "/outreach"),
    ("knowledge", "/knowledge"),
    ("notifications", "/notifications"),
    ("teamwork", "/team"),
)


def register_routers() -> None:
    """Every app's router, mounted once."""
    from importlib import import_module

    for app, prefix in ROUTERS:
        api.add_router(prefix, import_module(f"accord.{app}.api").router)


register_routers()
