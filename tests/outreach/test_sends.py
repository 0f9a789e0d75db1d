"""Campaign sends: prepared set-wise, delivered over SMTP by the worker, held ones rescheduled."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
from django.core import mail

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.outreach.models import EmailSend, RecipientStatus, SendRecipient, SendStatus
from accord.outreach.services import (
    bounce_record,
    email_send_create,
    email_send_preview,
    email_send_schedule,
    email_template_save,
    segment_save,
    sends_deliver_due,
)

from .factories import interest, make_contact, touch

pytestmark = pytest.mark.django_db


@pytest.fixture
def send_setup(marketer):
    segment = segment_save(name="SSO fans", definition={"interests_any": ["sso"]}, actor=marketer)
    template = email_template_save(
        name="SSO launch",
        subject="{{ first_name }}, single sign-on is here",
        body_text="Hi {{ first_name }}, since you care about {{ interests }}: SSO shipped.",
        body_html="<p>Hi {{ first_name }},</p><p>SSO for {{ company }} shipped.</p>",
        actor=marketer,
    )
    return segment, template


def make_send(marketer, segment, template, **extra):
    return email_send_create(name="SSO launch mail", segment=segment, template=template, actor=marketer, **extra)


def test_preview_counts_receivers_held_and_suppressed(marketer, send_setup):
    segment, template = send_setup
    for name in ("ana", "ben", "cy", "dee"):
        interest(make_contact(f"{name}@acme.test"), "sso")
    called = make_contact("eve@acme.test")
    interest(called, "sso")
    touch(called, TouchpointKind.MEETING, Team.SALES, days_ago=1)
    gone = make_contact("fay@acme.test", do_not_contact=True)
    interest(gone, "sso")

    preview = email_send_preview(send=make_send(marketer, segment, template))

    assert (preview.audience, preview.will_receive, preview.held, preview.suppressed) == (6, 4, 1, 1)
    assert preview.by_code == {"meeting": 1, "do_not_contact": 1}
    assert preview.sales_collisions == 1


def test_scheduled_send_is_delivered_personalised_and_recorded_once(marketer, send_setup, settings):
    segment, template = send_setup
    ana = make_contact("ana@acme.test", first_name="Ana")
    interest(ana, "sso")
    interest(ana, "audit logs")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    report = sends_deliver_due(at=now() + timedelta(seconds=1))
    again = sends_deliver_due(at=now() + timedelta(seconds=2))

    assert (report.prepared, report.sent) == (1, 1)
    assert again.sent == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Ana, single sign-on is here"
    assert "you care about sso, audit logs" in message.body or "you care about audit logs, sso" in message.body
    assert "/outreach/unsubscribe/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = Touchpoint.objects.get(contact=ana, kind=TouchpointKind.EMAIL_SENT)
    assert sent.team == Team.MARKETING
    send.refresh_from_db()
    assert send.status == SendStatus.DONE


def test_a_contact_held_because_their_rep_called_yesterday_gets_it_when_the_window_passes(marketer, send_setup):
    segment, template = send_setup
    ana = make_contact("ana@acme.test")
    interest(ana, "sso")
    touch(ana, TouchpointKind.EMAIL_SENT, Team.MARKETING, days_ago=3)
    touch(ana, TouchpointKind.CALL, Team.SALES, days_ago=1)
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    first = sends_deliver_due(at=now() + timedelta(seconds=1))
    held = SendRecipient.objects.get(send=send, contact=ana)

    assert first.sent == 0 and len(mail.outbox) == 0
    assert held.status == RecipientStatus.HELD
    assert "already contacted 2 times" in held.reason
    assert held.due_at > now() + timedelta(days=3)

    later = sends_deliver_due(at=held.due_at + timedelta(minutes=1))

    assert later.sent == 1
    assert len(mail.outbox) == 1
    held.refresh_from_db()
    assert held.status == RecipientStatus.SENT


def test_the_policy_is_asked_again_at_delivery_time(marketer, send_setup):
    segment, template = send_setup
    ana = make_contact("ana@acme.test")
    interest(ana, "sso")
    send = make_send(marketer, segment, template)
    send.status, send.scheduled_for = SendStatus.SCHEDULED, now() + timedelta(hours=1)
    send.save()
    # Between scheduling and sending, the rep books a meeting for tomorrow.
    touch(ana, TouchpointKind.MEETING, Team.SALES, days_ago=-1)

    report = sends_deliver_due(at=now() + timedelta(hours=1, seconds=1))

    assert report.sent == 0
    assert SendRecipient.objects.get(send=send).status == RecipientStatus.HELD


def test_delivery_reaches_a_real_smtp_server_and_a_refused_address_is_suppressed(marketer, send_setup, settings, smtp_server):
    port, received, refused = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    segment, template = send_setup
    for name in ("ana", "ben", "cy"):
        interest(make_contact(f"{name}@acme.test"), "sso")
    refused.add("cy@acme.test")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    report = sends_deliver_due(at=now() + timedelta(seconds=1))

    assert (report.sent, report.bounced) == (2, 1)
    assert sorted(address for envelope in received for address in envelope.rcpt_tos) == ["ana@acme.test", "ben@acme.test"]
    parsed = email.message_from_bytes(received[0].content)
    assert "".join(parsed["List-Unsubscribe"].split()).startswith("<http")
    cy = SendRecipient.objects.select_related("contact").get(contact__email="cy@acme.test")
    assert cy.status == RecipientStatus.BOUNCED
    assert cy.contact.do_not_contact is True


def test_an_unreachable_smtp_server_is_retried_with_backoff_and_nothing_is_lost(marketer, send_setup, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    segment, template = send_setup
    interest(make_contact("ana@acme.test"), "sso")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    first = sends_deliver_due(at=now() + timedelta(seconds=1))

    recipient = SendRecipient.objects.get(send=send)
    assert (first.sent, first.retried) == (0, 1)
    assert recipient.status == RecipientStatus.QUEUED
    assert recipient.attempts == 1 and "Error" in recipient.last_error
    assert recipient.due_at > now() + timedelta(minutes=1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    report = sends_deliver_due(at=recipient.due_at + timedelta(seconds=1))

    assert report.sent == 1
    assert len(mail.outbox) == 1


def test_a_failing_message_is_retried_with_growing_delays_then_given_up(marketer, send_setup, monkeypatch):
    segment, template = send_setup
    interest(make_contact("ana@acme.test"), "sso")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    import smtplib

    def broken_send(self, fail_silently=False):
        raise smtplib.SMTPDataError(451, b"try later")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken_send)
    moment = now() + timedelta(seconds=1)
    delays = []
    for _ in range(5):
        sends_deliver_due(at=moment)
        recipient = SendRecipient.objects.get(send=send)
        if recipient.status == RecipientStatus.QUEUED:
            delays.append(round((recipient.due_at - now()).total_seconds() / 60))
            moment = recipient.due_at + timedelta(seconds=1)

    assert delays == [2, 4, 8, 16]
    assert recipient.status == RecipientStatus.FAILED
    assert recipient.attempts == 5
    assert "451" in recipient.last_error


def test_a_reported_bounce_suppresses_the_contact(marketer, send_setup):
    segment, template = send_setup
    ana = make_contact("ana@acme.test")
    interest(ana, "sso")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)
    sends_deliver_due(at=now() + timedelta(seconds=1))
    message_id = SendRecipient.objects.get(send=send).message_id

    bounce_record(message_id=message_id, detail="550 mailbox unavailable")

    ana.refresh_from_db()
    assert ana.do_not_contact is True
    with pytest.raises(ValidationFailed):
        bounce_record(message_id="<nope@x>")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("body_text", "Hi {{ nickname }}", "unknown placeholder {{ nickname }}"),
        ("subject", "Hi {{ first_name }", "unclosed placeholder"),
        ("body_html", "<p>Hi <b>there</p>", "closes nothing"),
        ("body_html", "<div>Hi", "never closed"),
        ("body_html", "<script>alert(1)</script>", "not allowed"),
    ],
)
def test_templates_with_unknown_placeholders_or_broken_markup_are_refused_at_save(marketer, field, value, words):
    values = {"subject": "Hello", "body_text": "Hi {{ first_name }}", "body_html": ""}
    values[field] = value
    with pytest.raises(ValidationFailed) as refused:
        email_template_save(name="Broken", actor=marketer, **values)
    assert words in refused.value.errors[field]


def test_a_send_cannot_be_scheduled_in_the_past_or_after_it_started(marketer, send_setup):
    segment, template = send_setup
    send = make_send(marketer, segment, template)
    with pytest.raises(ValidationFailed) as refused:
        email_send_schedule(send=send, scheduled_for=now() - timedelta(days=1), actor=marketer)
    assert "scheduled_for" in refused.value.errors
    EmailSend.objects.filter(pk=send.pk).update(status=SendStatus.DONE)
    send.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        email_send_schedule(send=send, scheduled_for=now(), actor=marketer)
    assert "status" in refused.value.errors


def test_the_background_worker_delivers_scheduled_sends(marketer, send_setup):
    from django.core.management import call_command

    segment, template = send_setup
    interest(make_contact("ana@acme.test"), "sso")
    send = make_send(marketer, segment, template)
    email_send_schedule(send=send, scheduled_for=now(), actor=marketer)

    call_command("worker", "--once", verbosity=0)

    # Other due work may email the team (a monthly digest); the customer gets exactly one message.
    assert [m.subject for m in mail.outbox if m.to == ["ana@acme.test"]] == ["Ana, single sign-on is here"]
    send.refresh_from_db()
    assert send.status == SendStatus.DONE
