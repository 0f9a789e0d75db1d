"""The worker sends a notification's email to a real SMTP server (aiosmtpd, on a free local port)."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from accord.notifications.services import notify

from .conftest import run_due_jobs

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_a_notification_email_arrives_at_a_real_smtp_server(smtp_server, rep, settings):
    settings.DEFAULT_FROM_EMAIL = "accord@crm.example.test"
    notify(recipients=[rep], kind="handoff.warning", title="Lead due in 2 business hours", body="Ada Lovelace at Acme.", url="/handoffs/5/", event=False)

    run_due_jobs()

    [envelope] = smtp_server.messages
    assert envelope.mail_from == "accord@crm.example.test" and envelope.rcpt_tos == [rep.email]
    text = envelope.content.decode()
    assert "Subject: Lead due in 2 business hours" in text
    assert "Ada Lovelace at Acme." in text and "/handoffs/5/" in text
