"""Tell people and other systems that something happened.

``notify`` writes in-app notifications, queues one email per recipient and emits one outbound
event; ``event_emit`` emits an event alone. Everything slow (SMTP, HTTP) runs in the worker,
so request paths only write rows. Call both inside the transaction of the change they report:
if it rolls back, nothing is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.validators import URLValidator
from django.core.exceptions import ValidationError
from django.db import transaction

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.notifications.models import (
    DeliveryStatus,
    Notification,
    OutboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from accord.worker.services import JobSpec, jobs_enqueue_many, retry_delay

SEND_EMAIL_JOB = "notifications.send_email"
DELIVER_WEBHOOK_JOB = "notifications.deliver_webhook"
WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Accord-Signature"


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    event: bool = True,
) -> list[Notification]:
    """One in-app notification per distinct active recipient, an email each (queued), one event.

    ``recipients`` are users (duplicates and inactive users are skipped).
    """
    if not kind:
        raise ValidationFailed.single("kind", "A notification needs a kind.")
    if not title.strip():
        raise ValidationFailed.single("title", "A notification needs a title.")
    people = list({user.pk: user for user in recipients if user is not None and user.is_active}.values())
    moment = now()
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            [
                Notification(recipient=user, kind=kind, title=title[:200], body=body, url=url[:500], created_at=moment)
                for user in people
            ]
        )
        if email:
            jobs_enqueue_many(
                jobs=[
                    JobSpec(name=SEND_EMAIL_JOB, payload={"notification_id": row.pk}, dedupe_key=f"notification-email:{row.pk}")
                    for row, user in zip(rows, people)
                    if user.email
                ]
            )
        if event:
            event_emit(
                kind=kind,
                payload={
                    "title": title,
                    "body": body,
                    "url": absolute_url(url),
                    "recipients": [{"id": user.pk, "username": user.username, "email": user.email} for user in people],
                },
            )
    return rows


def absolute_url(url: str) -> str:
    if not url or "://" in url:
        return url
    return settings.SITE_URL.rstrip("/") + "/" + url.lstrip("/")


def event_emit(*, kind: str, payload: dict) -> OutboundEvent:
    """Record an outbound event and queue its delivery to every active subscription that wants it."""
    if not kind:
        raise ValidationFailed.single("kind", "An event needs a kind.")
    with transaction.atomic():
        event = OutboundEvent.objects.create(kind=kind, payload=payload)
        subscriptions = [s for s in WebhookSubscription.objects.filter(active=True) if s.wants(kind)]
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=event, subscription=s, next_attempt_at=event.created_at) for s in subscriptions]
        )
        _delivery_jobs_enqueue([d.pk for d in deliveries])
    return event


# --- run by the worker (see jobs.py) ---------------------------------------------------------


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification to its recipient. Returns False when there was nothing to send.

    A notification already emailed is not sent again when its job is retried.
    """
    row = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if row is None or row.emailed_at is not None or not row.recipient.email:
        return False
    text = row.body
    if row.url:
        text = f"{text}\n\n{absolute_url(row.url)}" if text else absolute_url(row.url)
    EmailMessage(subject=row.title, body=text, to=[row.recipient.email]).send(fail_silently=False)
    Notification.objects.filter(pk=row.pk).update(emailed_at=now())
    return True


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"`` under the subscription's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class DeliveryFailed(Exception):
    pass


def webhook_delivery_attempt(*, delivery_id: int) -> bool:
    """POST one event to one subscriber. True when delivered (now or before).

    A failure is recorded on the delivery and raised, so the worker retries with backoff; the
    last allowed failure marks the delivery failed. A delivered event is never sent again.
    """
    delivery = WebhookDelivery.objects.select_related("event", "subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.FAILED:
        return False
    if delivery.status == DeliveryStatus.DELIVERED:
        return True
    event, subscription = delivery.event, delivery.subscription
    body = json.dumps(
        {"id": event.pk, "kind": event.kind, "created_at": event.created_at.isoformat(), "data": event.payload},
        separators=(",", ":"),
        default=str,
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Accord-Webhooks/1",
            "X-Accord-Event": event.kind,
            "X-Accord-Delivery": str(delivery.pk),
            "X-Accord-Timestamp": timestamp,
            SIGNATURE_HEADER: webhook_signature(secret=subscription.secret, timestamp=timestamp, body=body),
        },
    )
    attempts = delivery.attempts + 1
    status_code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status_code = response.status
    except urllib.error.HTTPError as failure:
        status_code, error = failure.code, f"HTTP {failure.code} {failure.reason}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {getattr(failure, 'reason', failure)}"
    moment = now()
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, attempts=attempts, last_status_code=status_code,
            last_error="", delivered_at=moment, next_attempt_at=None,
        )
        return True
    error = error or f"HTTP {status_code}"
    final = attempts >= WEBHOOK_MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
        attempts=attempts,
        last_status_code=status_code,
        last_error=error[:2000],
        next_attempt_at=None if final else moment + retry_delay(attempts),
    )
    raise DeliveryFailed(f"delivery {delivery.pk} to {subscription.url}: {error}")


def webhook_deliveries_requeue(*, stuck_for: timedelta = timedelta(hours=1)) -> int:
    """Queue a job again for pending deliveries overdue by ``stuck_for`` (their job ran out of
    attempts while workers were being killed, say). Deliveries that still have a queued or
    running job are left alone by the job's dedupe key. Returns how many were looked at."""
    overdue = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=now() - stuck_for)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    return _delivery_jobs_enqueue(overdue)


def webhook_delivery_retry(*, delivery_id: int) -> WebhookDelivery:
    """Start a failed delivery over (an admin fixed the receiving end)."""
    from django.http import Http404

    with transaction.atomic():
        changed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now(), last_error=""
        )
        if not changed:
            raise Http404("No failed delivery with that id.")
        _delivery_jobs_enqueue([delivery_id])
    return WebhookDelivery.objects.get(pk=delivery_id)


def _delivery_jobs_enqueue(delivery_ids: list[int]) -> int:
    return jobs_enqueue_many(
        jobs=[
            JobSpec(name=DELIVER_WEBHOOK_JOB, payload={"delivery_id": pk}, dedupe_key=f"webhook-delivery:{pk}")
            for pk in delivery_ids
        ]
    )


# --- pages -----------------------------------------------------------------------------------


def notification_mark_read(*, user, notification_id: int) -> Notification:
    from django.http import Http404

    row = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if row is None:
        raise Http404("No such notification.")
    if row.read_at is None:
        row.read_at = now()
        row.save(update_fields=["read_at"])
    return row


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now())


def webhook_subscription_create(*, url: str, kinds: list[str], description: str = "", created_by=None) -> WebhookSubscription:
    """A new subscription with a fresh secret (show it to the creator once)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationFailed.single("url", "Enter an http:// or https:// address.") from None
    cleaned = []
    for kind in kinds:
        kind = kind.strip()
        if not kind:
            continue
        if len(kind) > 64 or not all(ch.isalnum() or ch in "._-*" for ch in kind):
            raise ValidationFailed.single("kinds", f"{kind[:70]!r} is not an event kind (letters, digits, . _ - and a trailing .*).")
        cleaned.append(kind)
    return WebhookSubscription.objects.create(
        url=url, kinds=sorted(set(cleaned)), description=description.strip()[:200],
        secret=secrets.token_urlsafe(32), created_by=created_by,
    )


def webhook_subscription_delete(*, subscription_id: int) -> None:
    from django.http import Http404

    deleted, _ = WebhookSubscription.objects.filter(pk=subscription_id).delete()
    if not deleted:
        raise Http404("No such webhook subscription.")
