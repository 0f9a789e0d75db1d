from __future__ import annotations

import pytest
from django.utils import timezone

from accord.notifications.models import DeliveryStatus, Notification, WebhookDelivery, WebhookSubscription
from accord.notifications.services import event_emit, notify, webhook_subscription_create
from accord.worker.models import Job

pytestmark = pytest.mark.django_db


def test_the_inbox_shows_my_notifications_and_the_unread_count_only(client, rep, manager, django_assert_max_num_queries):
    notify(recipients=[rep], kind="handoff.assigned", title="New lead: Ada <Acme>", url="/handoffs/3/", email=False, event=False)
    notify(recipients=[rep], kind="kb.changed", title="Pricing battlecard changed", email=False, event=False)
    notify(recipients=[manager], kind="handoff.breached", title="Breach for the manager", email=False, event=False)
    client.force_login(rep)

    with django_assert_max_num_queries(8):
        page = client.get("/notifications/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "New lead: Ada &lt;Acme&gt;" in text  # escaped
    assert "Pricing battlecard changed" in text and "Breach for the manager" not in text
    assert page.context["unread_notifications"] == 2
    assert '<strong class="unread-count">2</strong>' in text


def test_marking_one_read_then_all_read(client, rep):
    first, = notify(recipients=[rep], kind="a", title="First", email=False, event=False)
    notify(recipients=[rep], kind="a", title="Second", email=False, event=False)
    client.force_login(rep)

    response = client.post(f"/notifications/{first.pk}/read/", {"next": "/notifications/?unread=1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?unread=1"
    first.refresh_from_db()
    assert first.read_at is not None
    unread_page = client.get("/notifications/?unread=1").content.decode()
    assert "Second" in unread_page and "First" not in unread_page

    client.post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_goes_to_its_page_but_never_off_site(client, rep):
    local, = notify(recipients=[rep], kind="a", title="Local", url="/handoffs/9/", email=False, event=False)
    client.force_login(rep)
    assert client.post(f"/notifications/{local.pk}/read/", {"next": "/handoffs/9/"})["Location"] == "/handoffs/9/"
    assert client.post(f"/notifications/{local.pk}/read/", {"next": "https://evil.test/"})["Location"] == "/notifications/"


def test_nobody_can_mark_someone_elses_notification(client, rep, manager):
    theirs, = notify(recipients=[manager], kind="a", title="Private", email=False, event=False)
    client.force_login(rep)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "next=/notifications/" in response["Location"]


@pytest.mark.parametrize("who", ["marketer", "rep"])
def test_only_managers_and_admins_manage_webhooks(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/notifications/webhooks/").status_code == 403
    assert client.post("/notifications/webhooks/", {"url": "https://example.test/h"}).status_code == 403
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_a_webhook_is_added_its_secret_shown_once_and_removed(client, request, who):
    client.force_login(request.getfixturevalue(who))

    added = client.post("/notifications/webhooks/", {"url": "https://crm-sync.example.test/in", "kinds": "handoff.*, contact.mql"})

    hook = WebhookSubscription.objects.get()
    assert added.status_code == 200 and hook.kinds == ["contact.mql", "handoff.*"]
    assert hook.secret in added.content.decode()
    later = client.get("/notifications/webhooks/").content.decode()
    assert "https://crm-sync.example.test/in" in later and hook.secret not in later

    assert client.post(f"/notifications/webhooks/{hook.pk}/delete/").status_code == 302
    assert not WebhookSubscription.objects.exists()


def test_a_bad_webhook_address_is_refused_naming_the_field(client, manager):
    client.force_login(manager)
    response = client.post("/notifications/webhooks/", {"url": "not a url", "kinds": ""})
    assert response.status_code == 422
    assert response.context["form"].errors["url"] == ["Enter an http:// or https:// address."]
    assert not WebhookSubscription.objects.exists()


def test_a_failed_delivery_can_be_retried_from_the_webhooks_page(client, manager, django_assert_max_num_queries):
    webhook_subscription_create(url="https://example.test/h", kinds=[])
    event_emit(kind="x.y", payload={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8, last_error="HTTP 500")
    Job.objects.all().delete()
    client.force_login(manager)

    with django_assert_max_num_queries(10):
        page = client.get("/notifications/webhooks/")
    assert "HTTP 500" in page.content.decode()

    client.post(f"/notifications/webhooks/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert Job.objects.get().payload == {"delivery_id": delivery.pk}


def test_every_signed_in_page_knows_the_unread_count_with_one_query(rf, rep, django_assert_num_queries):
    from accord.notifications.context import unread_count

    notify(recipients=[rep], kind="a", title="x", email=False, event=False)
    request = rf.get("/")
    request.user = rep
    context = unread_count(request)
    with django_assert_num_queries(1):
        assert int(str(context["unread_notifications"])) == 1

    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert unread_count(request) == {}


def test_the_api_lists_my_notifications_paginated_and_filtered_by_unread(client, rep, manager):
    for n in range(3):
        notify(recipients=[rep], kind="a", title=f"Note {n}", email=False, event=False)
    notify(recipients=[manager], kind="a", title="Not mine", email=False, event=False)
    Notification.objects.filter(title="Note 0").update(read_at=timezone.now())
    client.force_login(rep)

    everything = client.get("/api/notifications?limit=2").json()
    assert everything["count"] == 3 and [n["title"] for n in everything["items"]] == ["Note 2", "Note 1"]
    unread = client.get("/api/notifications?unread=true").json()
    assert unread["count"] == 2 and {n["title"] for n in unread["items"]} == {"Note 1", "Note 2"}


def test_the_api_marks_a_notification_read(client, rep, manager):
    mine, = notify(recipients=[rep], kind="a", title="Mine", email=False, event=False)
    theirs, = notify(recipients=[manager], kind="a", title="Theirs", email=False, event=False)
    client.force_login(rep)

    response = client.post(f"/api/notifications/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert client.post(f"/api/notifications/{theirs.pk}/read").status_code == 404


def test_the_api_needs_authentication(client):
    assert client.get("/api/notifications").status_code == 401
