from __future__ import annotations

import pytest
from django.test import Client

from accord.core.models import ApiToken
from accord.core.services import api_token_create
from tests.conftest import PASSWORD
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_sees_it_once_and_it_works_on_the_api(client, rep):
    signed_in(client, rep)
    response = client.post("/me/", {"name": "Website form"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=rep, name="Website form")
    body = response.content.decode()
    raw = body.split('id="new-token"')[1].split("<code>")[1].split("</code>")[0]
    assert raw.startswith(token.prefix) and token.token_hash != raw
    assert raw not in client.get("/me/").content.decode()  # shown once only
    assert Client().get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_a_token_needs_a_name(client, rep):
    response = signed_in(client, rep).post("/me/", {"name": "  "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_and_it_stops_working(client, rep):
    token, raw = api_token_create(user=rep, name="script")
    signed_in(client, rep)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert "revoked" in client.get("/me/").content.decode()


def test_nobody_can_revoke_someone_elses_token(client, rep, marketer):
    token, _ = api_token_create(user=marketer, name="theirs")
    signed_in(client, rep)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "theirs" not in client.get("/me/").content.decode()


def test_token_forms_need_the_csrf_token(rep):
    strict = Client(enforce_csrf_checks=True)
    strict.login(username=rep.username, password=PASSWORD)
    assert strict.post("/me/", {"name": "x"}).status_code == 403
