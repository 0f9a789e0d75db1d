"""The monthly digest: built from the records, sent once by the worker job to a real SMTP
server, and readable in the web app."""

from __future__ import annotations

import socket
import time
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from accord.reports.digest import digest_send
from accord.reports.jobs import monthly_digest
from accord.reports.models import Digest
from accord.reports.providers import ChangeItem, register_change_feed, unregister_change_feed
from accord.reports.services import snapshots_refresh

from . import factories as f

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


@pytest.fixture
def april(monkeypatch):
    for target in ("accord.reports.services.clock_now", "accord.reports.queries.clock_now",
                   "accord.reports.digest.clock_now", "accord.reports.jobs.now"):
        monkeypatch.setattr(target, lambda: f.at(40))  # 10 April 2026
    ads = f.campaign("Spring ads", channel="paid_search", cost=1000, start=date(2026, 3, 5), end=date(2026, 3, 5))
    f.campaign("Dud", channel="event", cost=4000, start=date(2026, 3, 10), end=date(2026, 3, 10))
    person = f.contact(stages=(("lead", 0), ("mql", 2), ("sql", 4)))
    f.touch(person, 1, campaign=ads)
    f.opportunity(contact=person, amount=6000, stage="won", created=5, closed=9)
    snapshots_refresh()


def _wait_for(inbox, count):
    for _ in range(50):
        if len(inbox.messages) >= count:
            return
        time.sleep(0.05)


def test_the_worker_sends_last_months_digest_once_over_smtp(april, smtp, marketer, rep, client):
    register_change_feed("scoring", lambda *, start, end: [ChangeItem(at=f.at(3), kind="scoring", title="Scoring v2 activated")])
    try:
        monthly_digest({})
        monthly_digest({})  # the next day's run (or a retry) sends nothing more
    finally:
        unregister_change_feed("scoring")
    _wait_for(smtp, 2)
    assert len(smtp.messages) == 2
    recipients = sorted(rcpt[0] for rcpt, _ in smtp.messages)
    assert recipients == sorted([marketer.email, rep.email])
    message = smtp.messages[0][1]
    assert message["Subject"] == "Accord monthly digest · March 2026"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "MQLs" in body
        assert "Scoring v2 activated" in body
        assert "Campaign launched: Spring ads" in body
        assert "Spring ads" in body and "Dud" in body
        assert "No SLA data" in body
    digest = Digest.objects.get()
    assert digest.month == date(2026, 3, 1) and digest.recipients == 2 and digest.sent_at is not None

    client.force_login(rep)
    page = client.get("/reports/digests/2026-03/")
    assert page.status_code == 200 and "Accord monthly digest" in page.content.decode()
    assert "Scoring v2 activated" in client.get("/reports/digests/2026-03/?format=text").content.decode()
    assert client.get("/reports/digests/2026-02/").status_code == 404


def test_a_digest_with_no_activity_still_reads_sensibly(monkeypatch, marketer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    monkeypatch.setattr("accord.reports.digest.clock_now", lambda: f.at(40))
    digest = digest_send(month=date(2025, 6, 1))
    assert digest.recipients == 1
    assert "Nothing recorded." in digest.text and "No campaign was credited" in digest.text
    assert len(mail.outbox) == 1 and mail.outbox[0].alternatives[0][1] == "text/html"
