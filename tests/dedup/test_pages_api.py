"""The review queue, merge screen, history and undo pages, and /api/dedup, for both teams."""

from __future__ import annotations

import pytest

from accord.campaigns.models import Touchpoint
from accord.crm.models import Contact
from accord.dedup.models import Merge, Suggestion
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture

pytestmark = pytest.mark.django_db


def capture(**data) -> Contact:
    return contact_capture(lead=lead_from_mapping(data, default_region="US")).contact


@pytest.fixture
def pair():
    jon = capture(email="jon@acme.com", first_name="Jon", last_name="Smyth", company="Acme Corp.", subject="Webinar signup")
    jonathan = capture(email="jonathan@gmail.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation", kind="call", team="sales")
    return jon, jonathan, Suggestion.objects.get(kind="contact")


def test_both_teams_see_the_queue_with_the_explanation(client, marketer, rep, pair, django_assert_max_num_queries):
    for user in (marketer, rep):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            page = client.get("/duplicates/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Jon Smyth" in text and "Jonathan Smith" in text
        assert "Company: same company" in text


def test_signed_out_visitors_are_sent_to_sign_in(client, pair):
    assert client.get("/duplicates/").status_code == 302
    assert client.get("/api/dedup/suggestions").status_code == 401


def test_the_merge_screen_merges_with_chosen_values_and_undo_restores(client, rep, pair):
    jon, jonathan, suggestion = pair
    client.force_login(rep)
    screen = client.get(f"/duplicates/{suggestion.pk}/")
    assert screen.status_code == 200
    assert "Why they were suggested" in screen.content.decode()
    left = Contact.objects.get(pk=suggestion.left_id)
    right = Contact.objects.get(pk=suggestion.right_id)
    response = client.post(
        f"/duplicates/{suggestion.pk}/merge/",
        {
            "survivor": "left", "field-first_name": "right", "field-last_name": "right", "field-email": "left",
            "version-left": left.updated_at.isoformat(), "version-right": right.updated_at.isoformat(),
        },
    )
    merge = Merge.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/duplicates/merges/{merge.pk}/"
    survivor = Contact.objects.get()
    assert (survivor.first_name, survivor.email) == ("Jonathan", "jon@acme.com")
    detail = client.get(response["Location"]).content.decode()
    assert "Combined timeline" in detail and "Webinar signup" in detail and "Call" in detail
    assert Touchpoint.objects.filter(contact=survivor).count() == 2
    client.post(f"/duplicates/merges/{merge.pk}/undo/")
    assert Contact.objects.count() == 2
    assert Suggestion.objects.get().status == "pending"


def test_a_stale_merge_screen_is_refused_with_a_message(client, marketer, pair):
    jon, jonathan, suggestion = pair
    client.force_login(marketer)
    response = client.post(
        f"/duplicates/{suggestion.pk}/merge/",
        {"survivor": "left", "version-left": "2001-01-01T00:00:00+00:00", "version-right": "2001-01-01T00:00:00+00:00"},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    assert Contact.objects.count() == 2


def test_not_a_duplicate_from_the_page_leaves_the_queue(client, marketer, pair):
    _, _, suggestion = pair
    client.force_login(marketer)
    client.post(f"/duplicates/{suggestion.pk}/distinct/")
    assert Suggestion.objects.get().status == "distinct"
    assert "No people waiting for review" in client.get("/duplicates/").content.decode()


def test_the_scan_button_queues_a_scan(client, marketer, pair):
    client.force_login(marketer)
    client.post("/duplicates/scan/")
    from accord.dedup.models import Scan

    assert Scan.objects.filter(status="queued").count() == 1


def test_the_api_lists_merges_undoes_and_remembers_decisions(client, manager, pair, django_assert_max_num_queries):
    jon, jonathan, suggestion = pair
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        listing = client.get("/api/dedup/suggestions").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert {row["field"]: row["level"] for row in item["explanation"]}["company"] == "same company"
    bad = client.post(f"/api/dedup/suggestions/{suggestion.pk}/merge", {"survivor_id": 999999}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "survivor_id"
    merged = client.post(
        f"/api/dedup/suggestions/{suggestion.pk}/merge", {"survivor_id": jonathan.pk, "choices": {"email": "loser"}}, content_type="application/json"
    )
    assert merged.status_code == 201
    assert Contact.objects.get().email == "jon@acme.com"
    assert client.get("/api/dedup/merges").json()["count"] == 1
    undone = client.post(f"/api/dedup/merges/{merged.json()['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    distinct = client.post(f"/api/dedup/suggestions/{suggestion.pk}/not-duplicate")
    assert distinct.json()["status"] == "distinct"
    assert client.post(f"/api/dedup/suggestions/{suggestion.pk}/not-duplicate").status_code == 422
    assert client.post("/api/dedup/scans").status_code == 202
    assert client.get("/api/dedup/scans/latest").json()["status"] == "queued"


def test_the_import_preview_counts_rows_matching_existing_contacts(client, marketer):
    from accord.integrations.services import import_upload_store

    capture(email="ann@acme.com", first_name="Ann", last_name="Lee")
    capture(email="bo@globex.com", first_name="Boris", last_name="Kowalski", phone="+1 415 555 2671", city="Boston", postcode="02110", birth_date="1971-05-06")
    text = (
        "Email,First name,Last name,Phone,City,Postcode,Birth date\n"
        "ann@acme.com,Ann,Lee,,,,\n"
        "boris.k@gmail.com,Boris,Kowalsky,,Boston,02110,1971-05-06\n"
        "new@initech.com,Nia,Long,,,,\n"
    )
    job = import_upload_store(actor=marketer, file_name="people.csv", data=text.encode())
    client.force_login(marketer)
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert "<strong>1</strong> match existing contacts exactly" in page
    assert "<strong>1</strong> probably" in page
    assert "<strong>1</strong> are new" in page


def test_the_contact_page_shows_possible_duplicates(client, rep, pair):
    jon, jonathan, suggestion = pair
    client.force_login(rep)
    contact_page = client.get(f"/contacts/{jon.pk}/").content.decode()
    assert f"/duplicates/{suggestion.pk}/" in contact_page


def test_a_reviewer_is_warned_when_own_work_mailboxes_say_two_people(client, rep, pair):
    from accord.core.clock import now
    from accord.dedup.engine import FIELDS
    from accord.dedup.services import pair_cautions

    moment = now()
    kenji, namesake = (
        Contact.objects.create(first_name="Kenji", last_name="Wolf", email=email, created_at=moment, updated_at=moment)
        for email in ("kenji.wolf@brightbank.com", "kenji.wolf2@brightbank.com")
    )
    suggestion = Suggestion.objects.create(
        left_id=kenji.pk, right_id=namesake.pk, probability=1.0, levels=[3, 3] + [-1] * (len(FIELDS) - 2),
        created_at=moment, updated_at=moment,
    )
    client.force_login(rep)
    warning = "Own mailboxes at one company: often two people with the same name."
    assert warning in client.get("/duplicates/").content.decode()
    assert warning in client.get(f"/duplicates/{suggestion.pk}/").content.decode()

    jon, jonathan, _ = pair  # a work address and a private one: nothing to warn about
    assert pair_cautions(jon, jonathan) == []
    elsewhere = Contact(first_name="Kenji", last_name="Wolf", email="kenji@otherbank.com")
    assert pair_cautions(kenji, elsewhere) == ["Work addresses at two companies: a namesake, or the same person after a job change."]
    assert pair_cautions(kenji, Contact(email="KENJI.WOLF@brightbank.com")) == []  # the same mailbox
