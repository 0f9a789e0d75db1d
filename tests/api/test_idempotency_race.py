from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from accord.campaigns.models import Touchpoint
from accord.core.models import IdempotentRequest
from accord.core.services import api_token_create
from accord.crm.models import Contact
from accord.intake import api as intake_api


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_capture_once(rep, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent write transactions (PostgreSQL); SQLite runs one writer at a time")
    real_capture = intake_api.contact_capture

    def slow_capture(**kwargs):
        outcome = real_capture(**kwargs)
        time.sleep(0.3)  # hold the transaction open so the other request meets the unique key
        return outcome

    monkeypatch.setattr(intake_api, "contact_capture", slow_capture)
    _, raw = api_token_create(user=rep, name="race")
    barrier = threading.Barrier(2)
    responses = []

    def send():
        try:
            barrier.wait()
            response = Client().post(
                "/api/capture",
                json.dumps({"email": "ann@acme.com", "first_name": "Ann"}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_IDEMPOTENCY_KEY="race-1",
            )
            responses.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [201, 201]
    assert sorted(r["Idempotent-Replayed"] for r in responses) == ["false", "true"]
    assert responses[0].json() == responses[1].json()
    assert Contact.objects.count() == Touchpoint.objects.count() == IdempotentRequest.objects.count() == 1
