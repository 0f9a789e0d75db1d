"""Outreach through its pages and API: roles, segments with live counts, unsubscribe links."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from accord.campaigns.models import TouchpointKind
from accord.core.clock import now
from accord.core.models import Team
from accord.crm.models import Contact
from accord.outreach.models import ContactSubscription, PlannedOutreach, SubscriptionTopic
from accord.outreach.services import (
    email_send_create,
    email_template_save,
    segment_save,
    unsubscribe_token,
)

from ..conftest import PASSWORD
from .factories import interest, make_contact, touch

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_marketer_builds_a_segment_from_interest_tags_in_the_form(client, marketer):
    for name in ("ana", "ben"):
        interest(make_contact(f"{name}@acme.test"), "fintech")
    make_contact("cy@acme.test")
    signed_in(client, marketer)

    response = client.post(reverse("outreach_segment_new"), {"name": "Fintech", "interests_any": "Fintech"})

    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert b'id="segment-count">2<' in detail.content


def test_segment_form_shows_each_bad_filter_by_its_field(client, marketer):
    signed_in(client, marketer)
    response = client.post(reverse("outreach_segment_new"), {"name": "Bad", "stages": "hot", "min_score": "x"})
    assert response.status_code == 200
    assert b"not a lifecycle stage" in response.content
    assert b"must be a whole number" in response.content


def test_the_live_count_endpoint_counts_and_names_bad_filters(client, marketer):
    interest(make_contact("ana@acme.test", score=70), "sso")
    interest(make_contact("ben@acme.test", score=10), "sso")
    signed_in(client, marketer)
    url = "/api/outreach/segments/count"

    ok = client.post(url, {"definition": {"interests_any": ["sso"], "min_score": 50}}, content_type="application/json")
    bad = client.post(url, {"definition": {"grades": ["Q"]}}, content_type="application/json")

    assert ok.json() == {"count": 1}
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "definition.grades"


def test_sales_may_not_create_campaign_sends_or_templates(client, rep, marketer):
    segment = segment_save(name="All", definition={}, actor=marketer)
    signed_in(client, rep)
    assert client.get(reverse("outreach_send_new")).status_code == 403
    assert client.get(reverse("outreach_template_new")).status_code == 403
    api = client.post(
        "/api/outreach/sends", {"name": "x", "segment_id": segment.pk, "template_id": 1}, content_type="application/json"
    )
    assert api.status_code == 403
    # But Sales sees the calendar and the send list both teams share.
    assert client.get(reverse("outreach_calendar")).status_code == 200
    assert client.get(reverse("outreach_sends")).status_code == 200


def test_pages_need_a_login(client):
    response = client.get(reverse("outreach_calendar"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_send_page_shows_who_is_held_because_of_sales_before_sending(client, marketer):
    segment = segment_save(name="SSO", definition={"interests_any": ["sso"]}, actor=marketer)
    template = email_template_save(name="T", subject="Hi", body_text="Hi {{ first_name }}", actor=marketer)
    ok = make_contact("ana@acme.test")
    interest(ok, "sso")
    met = make_contact("ben@acme.test")
    interest(met, "sso")
    touch(met, TouchpointKind.MEETING, Team.SALES, days_ago=1)
    send = email_send_create(name="Launch", segment=segment, template=template, actor=marketer)
    signed_in(client, marketer)

    page = client.get(reverse("outreach_send", args=[send.pk])).content.decode()

    assert 'id="will-receive">1<' in page
    assert 'id="held">1<' in page
    assert "Collides with Sales" in page


def test_the_calendar_marks_two_teams_aiming_at_the_same_contact_the_same_week(client, marketer, rep):
    contact = make_contact("ana@acme.test")
    today = now().date()
    for user, title in ((marketer, "Webinar invite"), (rep, "Follow-up call series")):
        PlannedOutreach.objects.create(
            title=title, team=user.team, contact=contact, starts_on=today, ends_on=today + timedelta(days=2),
            created_by=user, created_at=now(),
        )
    signed_in(client, rep)

    page = client.get(reverse("outreach_calendar")).content.decode()

    assert page.count("colliding") >= 2
    assert "collision" in page


def test_a_planned_outreach_with_end_before_start_is_refused(client, rep):
    contact = make_contact("ana@acme.test")
    signed_in(client, rep)
    response = client.post(
        "/api/outreach/planned",
        {"title": "Calls", "starts_on": "2026-12-10", "ends_on": "2026-12-01", "contact_id": contact.pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "ends_on"


def test_the_one_click_unsubscribe_link_works_without_login_and_get_changes_nothing(client):
    contact = make_contact("ana@acme.test")
    topic = SubscriptionTopic.objects.create(name="Events")
    url = reverse("outreach_unsubscribe", args=[unsubscribe_token(contact_id=contact.pk, topic_id=topic.pk)])

    page = client.get(url)
    assert page.status_code == 200 and b"a\xe2\x80\xa6@acme.test" in page.content
    assert not ContactSubscription.objects.exists()

    done = client.post(url)

    assert done.status_code == 200
    assert ContactSubscription.objects.filter(contact=contact, topic=topic).exists()
    contact.refresh_from_db()
    assert contact.do_not_contact is False  # only the topic


def test_unsubscribing_from_everything_suppresses_the_contact(client):
    contact = make_contact("ana@acme.test")
    url = reverse("outreach_unsubscribe", args=[unsubscribe_token(contact_id=contact.pk, topic_id=None)])
    client.post(url)
    contact.refresh_from_db()
    assert contact.do_not_contact is True


def test_a_forged_or_expired_unsubscribe_link_changes_nothing(client, monkeypatch):
    contact = make_contact("ana@acme.test")
    token = unsubscribe_token(contact_id=contact.pk, topic_id=None)
    forged = signing.dumps({"c": contact.pk, "t": None}, salt="somebody-else", compress=True)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 400 * 86400)
    old = unsubscribe_token(contact_id=contact.pk, topic_id=None)
    monkeypatch.setattr(signing.time, "time", real_time)

    for bad in (forged, tampered, old):
        response = client.post(reverse("outreach_unsubscribe", args=[bad]))
        assert response.status_code == 400
    assert b"expired" in client.post(reverse("outreach_unsubscribe", args=[old])).content
    contact.refresh_from_db()
    assert contact.do_not_contact is False


def test_only_consent_managers_lift_do_not_contact(client, rep, marketer):
    contact = make_contact("ana@acme.test", do_not_contact=True)
    signed_in(client, rep)
    response = client.post(f"/api/outreach/contacts/{contact.pk}/unsuppress", {"note": "ok"}, content_type="application/json")
    assert response.status_code == 403
    client.logout()
    signed_in(client, marketer)
    response = client.post(f"/api/outreach/contacts/{contact.pk}/unsuppress", {"note": "met at fair"}, content_type="application/json")
    assert response.json() == {"contact_id": contact.pk, "do_not_contact": False}


def test_html_in_segment_names_is_shown_as_text(client, marketer):
    segment_save(name="<b>bold</b>", definition={}, actor=marketer)
    signed_in(client, marketer)
    page = client.get(reverse("outreach_segments")).content
    assert b"&lt;b&gt;bold&lt;/b&gt;" in page
    assert b"<b>bold</b>" not in page


def test_policy_page_is_shared_and_only_managers_change_it(client, marketer, manager):
    signed_in(client, marketer)
    assert client.get(reverse("outreach_policy")).status_code == 200
    assert client.post(reverse("outreach_policy"), {"max_promotions": 5, "window_days": 7, "quiet_days_after_meeting": 1}).status_code == 403
    client.logout()
    signed_in(client, manager)
    bad = client.post(reverse("outreach_policy"), {"max_promotions": "many", "window_days": 7, "quiet_days_after_meeting": 1})
    assert b"must be a whole number" in bad.content
    client.post(reverse("outreach_policy"), {"max_promotions": 5, "window_days": 7, "quiet_days_after_meeting": 1, "count_sales_touches": "on"})
    assert client.get("/api/outreach/policy").json()["max_promotions"] == 5


def test_busy_outreach_pages_use_a_fixed_number_of_queries(client, marketer, django_assert_max_num_queries):
    segment = segment_save(name="Everyone", definition={}, actor=marketer)
    template = email_template_save(name="T", subject="Hi", body_text="Hi", actor=marketer)
    for index in range(30):
        make_contact(f"p{index}@acme.test")
        email_send_create(name=f"Send {index}", segment=segment, template=template, actor=marketer, scheduled_for=now())
    signed_in(client, marketer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("outreach_calendar")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("outreach_sends")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("outreach_segment", args=[segment.pk])).status_code == 200
    assert Contact.objects.count() == 30


def test_the_360_page_shows_consent_and_held_deliveries(client, marketer):
    contact = make_contact("ana@acme.test")
    contact_suppress_reason = "complained"
    from accord.outreach.services import contact_suppress

    contact_suppress(contact=contact, reason=contact_suppress_reason, actor=marketer)
    signed_in(client, marketer)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'id="outreach-panel"' in page
    assert "Do not contact" in page and "Complained" in page
