from __future__ import annotations

import pytest
from django.core.management import call_command

from accord.core.models import ApiToken, hash_token
from accord.core.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def test_it_refuses_a_request_without_a_token(api_as):
    response = api_as(None).get("/api/contacts")
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_it_refuses_an_unknown_token(client):
    response = client.get("/api/contacts", HTTP_AUTHORIZATION="Bearer acc_not-a-real-token")
    assert response.status_code == 401


def test_it_accepts_a_token_and_stores_only_its_hash(client, rep):
    token, raw = api_token_create(user=rep, name="laptop")
    stored = ApiToken.objects.get()
    assert stored.token_hash == hash_token(raw) != raw
    assert raw not in {stored.name, stored.prefix, stored.token_hash}
    assert raw.startswith(stored.prefix)
    assert client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert client.get("/api/contacts", HTTP_X_API_TOKEN=raw).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_it_refuses_a_revoked_token(client, rep):
    token, raw = api_token_create(user=rep, name="laptop")
    assert api_token_revoke(token=token) is True
    assert client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert api_token_revoke(token=token) is False


def test_it_refuses_the_token_of_a_deactivated_user(client, rep):
    _, raw = api_token_create(user=rep, name="laptop")
    rep.is_active = False
    rep.save()
    assert client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_signed_in_browser_session_may_read(client, rep):
    client.force_login(rep)
    assert client.get("/api/contacts").status_code == 200


def test_the_command_creates_a_token_shown_once_and_revokes_it_by_prefix(client, rep, capsys):
    call_command("token", "create", rep.username, "--name", "ci")
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=rep)
    assert token.name == "ci" and token.token_hash == hash_token(printed)
    assert client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {printed}").status_code == 200

    call_command("token", "revoke", token.prefix)
    assert client.get("/api/contacts", HTTP_AUTHORIZATION=f"Bearer {printed}").status_code == 401


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/contacts", "/api/accounts", "/api/opportunities", "/api/campaigns", "/api/capture",
                 "/api/campaigns/touchpoints", "/api/contacts/{contact_id}/stage"):
        assert path in paths
    assert client.get("/api/docs").status_code == 200


def test_a_browser_session_cannot_write_without_the_csrf_token(rep):
    from django.test import Client

    from accord.crm.models import Contact

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(rep)
    response = browser.post("/api/contacts", {"email": "ann@acme.com"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert Contact.objects.count() == 0


def test_a_token_finds_its_user_as_the_orm_reads_it_and_notes_its_use_once_a_minute(rep):
    from datetime import timedelta

    from django.forms.models import model_to_dict
    from django.utils import timezone

    from accord.api import user_for_token
    from accord.core.models import User

    token, raw = api_token_create(user=rep, name="laptop")
    user = user_for_token(raw)
    assert user.pk == rep.pk and type(user) is User
    assert model_to_dict(user) == model_to_dict(User.objects.get(pk=rep.pk))
    assert user.date_joined == User.objects.get(pk=rep.pk).date_joined and timezone.is_aware(user.date_joined)
    assert not hasattr(user, "api_token_id")

    recently = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)
    assert user_for_token(raw).pk == rep.pk
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recently  # not written again within the minute

    long_ago = timezone.now() - timedelta(seconds=90)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    user_for_token(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > long_ago + timedelta(seconds=60)
    assert user_for_token(raw + "x") is None
