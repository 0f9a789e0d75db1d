from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accord.core.errors import ValidationFailed
from accord.core.models import Role
from accord.notifications.models import DeliveryStatus, Notification, OutboundEvent, WebhookDelivery
from accord.notifications.services import (
    event_emit,
    notify,
    webhook_signature,
    webhook_subscription_create,
)
from accord.worker.models import Job, JobStatus
from tests.conftest import make_user

from .conftest import run_due_jobs

pytestmark = pytest.mark.django_db


def test_notify_creates_a_notification_per_recipient_queues_emails_and_emits_one_event(rep, manager, django_assert_max_num_queries):
    hook = webhook_subscription_create(url="http://127.0.0.1:9/hook", kinds=["handoff.*"])

    with django_assert_max_num_queries(10):  # the same for 2 or 2,000 recipients
        rows = notify(
            recipients=[rep, manager, rep], kind="handoff.breached", title="Lead overdue",
            body="Acme's lead waited 25 business hours.", url="/handoffs/7/",
        )

    assert sorted(r.recipient_id for r in rows) == sorted([rep.pk, manager.pk])
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    assert Job.objects.filter(name="notifications.send_email").count() == 2
    event = OutboundEvent.objects.get()
    assert event.kind == "handoff.breached" and event.payload["url"].endswith("/handoffs/7/")
    assert WebhookDelivery.objects.get().subscription == hook
    assert mail.outbox == []  # nothing slow happens on the request path


def test_the_worker_sends_each_notification_email_once(rep, manager):
    notify(recipients=[rep, manager], kind="handoff.warning", title="Lead due soon", body="Call them.", url="/handoffs/1/", event=False)

    run_due_jobs()
    run_due_jobs()

    assert sorted(m.to[0] for m in mail.outbox) == sorted([rep.email, manager.email])
    message = mail.outbox[0]
    assert message.subject == "Lead due soon" and "Call them." in message.body and "/handoffs/1/" in message.body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_retried_email_job_does_not_send_twice(rep):
    [row] = notify(recipients=[rep], kind="digest", title="Monthly digest", event=False)
    run_due_jobs()
    # The job is queued again (say its worker died after sending, before marking it done).
    Job.objects.filter(name="notifications.send_email").update(status=JobStatus.QUEUED, run_at=timezone.now())
    run_due_jobs()
    assert len(mail.outbox) == 1


def test_notify_without_email_or_event_only_writes_rows(rep):
    notify(recipients=[rep], kind="kb.changed", title="Battlecard updated", email=False, event=False)
    assert Notification.objects.count() == 1 and Job.objects.count() == 0 and OutboundEvent.objects.count() == 0


def test_inactive_users_and_users_without_email_get_no_email(db):
    quiet = make_user(Role.SALES)
    quiet.email = ""
    quiet.save(update_fields=["email"])
    gone = make_user(Role.SALES, is_active=False)
    rows = notify(recipients=[quiet, gone], kind="x.y", title="Hello", event=False)
    assert [r.recipient_id for r in rows] == [quiet.pk]
    assert Job.objects.count() == 0


def test_notify_refuses_an_empty_title(rep):
    with pytest.raises(ValidationFailed) as refused:
        notify(recipients=[rep], kind="x", title="  ")
    assert "title" in refused.value.errors


def test_an_event_goes_only_to_active_subscriptions_that_want_its_kind():
    everything = webhook_subscription_create(url="https://example.test/all", kinds=[])
    handoffs = webhook_subscription_create(url="https://example.test/handoffs", kinds=["handoff.*"])
    webhook_subscription_create(url="https://example.test/scoring", kinds=["scoring.model_activated"])
    paused = webhook_subscription_create(url="https://example.test/paused", kinds=[])
    paused.active = False
    paused.save(update_fields=["active"])

    event_emit(kind="handoff.accepted", payload={"handoff": 3})

    assert set(WebhookDelivery.objects.values_list("subscription", flat=True)) == {everything.pk, handoffs.pk}


def test_a_webhook_reaches_a_real_server_with_a_valid_hmac_signature(receiver):
    hook = webhook_subscription_create(url=receiver.url, kinds=["contact.*"])
    event = event_emit(kind="contact.mql", payload={"contact": 12, "score": 71})

    run_due_jobs()
    run_due_jobs()

    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    headers = {k.lower(): v for k, v in call["headers"].items()}
    expected = webhook_signature(secret=hook.secret, timestamp=headers["x-accord-timestamp"], body=call["body"])
    assert headers["x-accord-signature"] == expected
    assert headers["x-accord-event"] == "contact.mql"
    assert json.loads(call["body"]) == {
        "id": event.pk, "kind": "contact.mql", "created_at": event.created_at.isoformat(),
        "data": {"contact": 12, "score": 71},
    }
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1 and delivery.last_status_code == 200


def test_a_failed_webhook_is_retried_with_backoff_and_delivered_once(receiver, settings):
    settings.ACCORD_WORKER_RETRY_BASE_SECONDS = 60
    webhook_subscription_create(url=receiver.url, kinds=[])
    receiver.status = 503
    event_emit(kind="handoff.breached", payload={"handoff": 1})

    run_due_jobs()
    delivery = WebhookDelivery.objects.get()
    job = Job.objects.get(name="notifications.deliver_webhook")
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and delivery.last_status_code == 503
    assert job.status == JobStatus.QUEUED and job.run_at > timezone.now() + timedelta(seconds=50)
    assert run_due_jobs() == 0  # not before the backoff passes

    receiver.status = 200
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    run_due_jobs()
    # Even if the job were queued again, a delivered event is not sent twice.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, run_at=timezone.now())
    run_due_jobs()

    assert [c["headers"]["X-Accord-Delivery"] for c in receiver.calls] == [str(delivery.pk)] * 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2


def test_a_webhook_that_keeps_failing_is_marked_failed_with_its_error(receiver):
    webhook_subscription_create(url=receiver.url, kinds=[])
    receiver.status = 500
    event_emit(kind="x.y", payload={})
    for _ in range(12):
        Job.objects.filter(status=JobStatus.QUEUED).update(run_at=timezone.now())
        run_due_jobs()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 8 and "HTTP 500" in delivery.last_error
    assert len(receiver.calls) == 8


def test_a_subscription_needs_a_web_address_and_valid_kinds():
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(url="ftp://example.test", kinds=[])
    assert "url" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(url="https://example.test", kinds=["bad kind!"])
    assert "kinds" in refused.value.errors
