"""A marketer builds a segment from Sales' interest tags, sees who is held because their rep
called, schedules the send; the worker delivers it to a real SMTP server; the customer's
unsubscribe link works without a login."""

from __future__ import annotations

import email
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.models import Team
from accord.crm.models import Contact, ContactInterest
from accord.outreach.services import email_template_save
from tests.conftest import PASSWORD
from tests.outreach.conftest import smtp_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser]


def person(email_address: str) -> Contact:
    moment = now()
    contact = Contact.objects.create(email=email_address, first_name=email_address.split("@")[0].title(),
                                     created_at=moment, updated_at=moment)
    ContactInterest.objects.create(contact=contact, name="sso", added_at=moment)
    return contact


def test_segment_send_hold_delivery_and_unsubscribe(transactional_db, live_server, page, browser, marketer, rep, settings, smtp_server):  # noqa: F811
    port, received, _ = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SITE_URL = live_server.url
    ana, ben = person("ana@acme.test"), person("ben@acme.test")
    # Ben got a newsletter three days ago and his rep called him yesterday: the cap of 2 is reached.
    for kind, team, days in ((TouchpointKind.EMAIL_SENT, Team.MARKETING, 3), (TouchpointKind.CALL, Team.SALES, 1)):
        at = now() - timedelta(days=days)
        Touchpoint.objects.create(contact=ben, kind=kind, team=team, actor=rep if team == Team.SALES else None,
                                  occurred_at=at, created_at=at)
    email_template_save(name="SSO launch", subject="{{ first_name }}, SSO is here",
                        body_text="Hi {{ first_name }}, you asked about {{ interests }}.", actor=marketer)

    page.goto(f"{live_server.url}/outreach/segments/new/")
    page.fill("#id_username", marketer.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/outreach/segments/new/")
    page.fill("#s-name", "Asked about SSO")
    page.fill("#f-interests_any", "sso")
    page.wait_for_function("document.getElementById('live-count').textContent === '2'")
    page.click("#segment-form button")
    assert page.locator("#segment-count").inner_text() == "2"

    page.goto(f"{live_server.url}/outreach/sends/new/")
    page.fill("#n-name", "SSO launch mail")
    page.select_option("#n-segment", label="Asked about SSO")
    page.select_option("#n-template", label="SSO launch")
    page.click("form.card button")
    assert page.locator("#will-receive").inner_text() == "1"
    assert page.locator("#held").inner_text() == "1"
    assert "frequency: 1" in page.inner_text("body")
    page.click("button:has-text('Schedule')")
    assert "the worker delivers it" in page.inner_text(".messages")

    call_command("worker", "--once", verbosity=0)

    # Other due work may email the team too (a monthly digest); of the customers only Ana gets it.
    to_customers = [envelope for envelope in received if envelope.rcpt_tos[0].endswith("@acme.test")]
    assert [envelope.rcpt_tos for envelope in to_customers] == [["ana@acme.test"]]
    message = email.message_from_bytes(to_customers[0].content)
    text = message.get_payload(decode=True).decode() if not message.is_multipart() else message.get_payload(0).get_payload(decode=True).decode()
    link = re.search(r"(http://\S+/outreach/unsubscribe/\S+/)", text).group(1)

    customer = browser.new_context().new_page()  # no login: a customer's mail client
    customer.goto(link)
    customer.click("button")
    assert "You are unsubscribed" in customer.inner_text("body")
    ana.refresh_from_db()
    assert ana.do_not_contact is True
