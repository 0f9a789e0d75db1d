from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accord.core.models import LoginAttempt
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/contacts/")


def test_it_signs_in_and_goes_to_the_page_asked_for(client, rep):
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD, "next": "/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    assert client.get("/").status_code == 200


def test_it_refuses_to_redirect_off_site_after_sign_in(client, rep):
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD, "next": "https://evil.test/"})
    assert response["Location"] == reverse("home")


def test_it_says_when_the_password_is_wrong(client, rep):
    response = client.post("/login/", {"username": rep.username, "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert LoginAttempt.objects.filter(username=rep.username).count() == 1


@override_settings(LOGIN_ATTEMPT_LIMIT=3)
def test_it_locks_a_username_after_repeated_failures_even_with_the_right_password(client, rep):
    for _ in range(3):
        client.post("/login/", {"username": rep.username, "password": "wrong"})
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_ATTEMPT_LIMIT=3)
def test_the_lock_is_per_address_so_others_can_still_sign_in(rep):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        attacker.post("/login/", {"username": rep.username, "password": "wrong"})
    colleague = Client(REMOTE_ADDR="198.51.100.7")
    assert colleague.post("/login/", {"username": rep.username, "password": PASSWORD}).status_code == 302


@override_settings(LOGIN_ATTEMPT_LIMIT=3, LOGIN_ATTEMPT_WINDOW_SECONDS=60)
def test_the_lock_expires_after_the_window(client, rep):
    for _ in range(3):
        client.post("/login/", {"username": rep.username, "password": "wrong"})
    LoginAttempt.objects.update(attempted_at=LoginAttempt.objects.first().attempted_at.replace(year=2000))
    assert client.post("/login/", {"username": rep.username, "password": PASSWORD}).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, rep):
    client.post("/login/", {"username": rep.username, "password": "wrong"})
    client.post("/login/", {"username": rep.username, "password": PASSWORD})
    assert not LoginAttempt.objects.filter(username=rep.username).exists()


def test_sign_in_and_sign_out_forms_need_the_csrf_token(rep):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/login/", {"username": rep.username, "password": PASSWORD}).status_code == 403
    page = strict.get("/login/")
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()


def test_sign_out_ends_the_session(client, rep):
    client.login(username=rep.username, password=PASSWORD)
    assert client.post("/logout/").status_code == 302
    assert client.get("/contacts/").status_code == 302


def test_the_prune_job_drops_failures_older_than_the_window(client, rep):
    from accord.core.jobs import prune_login_attempts
    from accord.worker.registry import discover_handlers

    client.post("/login/", {"username": rep.username, "password": "wrong"})
    client.post("/login/", {"username": "someone", "password": "wrong"})
    LoginAttempt.objects.filter(username="someone").update(attempted_at=LoginAttempt.objects.first().attempted_at.replace(year=2000))
    assert "core.prune_login_attempts" in discover_handlers()
    assert prune_login_attempts({}) == 1
    assert list(LoginAttempt.objects.values_list("username", flat=True)) == [rep.username]
