"""An API client per user, authenticated with a real token made by the token service."""

from __future__ import annotations

import json

import pytest

from accord.campaigns.models import Campaign
from accord.core.clock import now
from accord.core.services import api_token_create


class ApiClient:
    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _send(self, method: str, path: str, body=None, headers: dict | None = None, raw: str | None = None):
        extra = {**self.headers, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}}
        call = getattr(self.client, method)
        if method == "get":
            return call(path, body or {}, **extra)
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return call(path, data, content_type="application/json", **extra)

    def get(self, path, params=None, **kw):
        return self._send("get", path, params, **kw)

    def post(self, path, body=None, **kw):
        return self._send("post", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self._send("patch", path, body, **kw)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are made in every test here; real password hashing would be most of the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_as(client):
    """api_as(user) → a client sending that user's fresh token; api_as(None) sends none."""

    def make(user) -> ApiClient:
        if user is None:
            return ApiClient(client, None)
        _, raw = api_token_create(user=user, name="tests")
        return ApiClient(client, raw)

    return make


def errors_by_field(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {error["loc"][-1]: error["msg"] for error in response.json()["detail"]}


def make_campaign(**values) -> Campaign:
    moment = now()
    values.setdefault("name", "Campaign")
    return Campaign.objects.create(created_at=moment, updated_at=moment, **values)
