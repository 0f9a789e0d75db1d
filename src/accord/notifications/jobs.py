from datetime import timedelta

from accord.notifications.services import (
    DELIVER_WEBHOOK_JOB,
    SEND_EMAIL_JOB,
    WEBHOOK_MAX_ATTEMPTS,
    notification_email_send,
    webhook_deliveries_requeue,
    webhook_delivery_attempt,
)
from accord.worker.registry import job_handler


@job_handler(SEND_EMAIL_JOB, max_attempts=6)
def send_email(payload: dict) -> None:
    notification_email_send(notification_id=int(payload["notification_id"]))


# The delivery row counts its own attempts and gives up after WEBHOOK_MAX_ATTEMPTS; the job
# allows a little more, for claims lost to a worker that died mid-request.
@job_handler(DELIVER_WEBHOOK_JOB, max_attempts=WEBHOOK_MAX_ATTEMPTS + 2)
def deliver_webhook(payload: dict) -> None:
    webhook_delivery_attempt(delivery_id=int(payload["delivery_id"]))


@job_handler("notifications.requeue_stuck_deliveries", every=timedelta(minutes=15))
def requeue_stuck_deliveries(payload: dict) -> None:
    webhook_deliveries_requeue()
