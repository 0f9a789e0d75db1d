from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accord.core.clock import now
from accord.crm.models import Account, Contact, ContactInterest

pytestmark = pytest.mark.django_db


def make_contact(email: str, **values) -> Contact:
    moment = now()
    return Contact.objects.create(email=email, created_at=moment, updated_at=moment, **values)


def exported(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def contacts(rep):
    moment = now()
    acme = Account.objects.create(name="Acme", domain="acme.com", created_at=moment, updated_at=moment)
    ann = make_contact("ann@acme.com", first_name="Ann", lifecycle_stage="mql", account=acme, owner=rep)
    make_contact("bo@globex.com", first_name="=HYPERLINK(\"http://evil\")", lifecycle_stage="lead")
    make_contact("cy@initech.com", first_name="Cy", lifecycle_stage="mql", phone="+14155552671")
    ContactInterest.objects.create(contact=ann, name="sso", added_at=moment)
    return ann


def test_the_export_holds_exactly_the_filtered_list(client, marketer, contacts, django_assert_max_num_queries):
    client.force_login(marketer)
    url = reverse("contact_export")
    assert url == "/contacts/export.csv"
    with django_assert_max_num_queries(8):
        response = client.get(url, {"stage": "mql", "sort": "name"})
        rows = exported(response)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert [row["email"] for row in rows] == ["ann@acme.com", "cy@initech.com"]
    ann = rows[0]
    assert (ann["company"], ann["company_domain"], ann["owner"], ann["interests"]) == ("Acme", "acme.com", "sam", "sso")
    assert rows[1]["phone"] == "+14155552671"


def test_the_export_defuses_spreadsheet_formulas(client, marketer, contacts):
    client.force_login(marketer)
    rows = exported(client.get(reverse("contact_export"), {"q": "globex"}))
    assert rows[0]["first_name"] == "'=HYPERLINK(\"http://evil\")"


def test_an_exported_file_imports_back_into_the_same_contacts(client, marketer, contacts, tmp_path):
    from accord.integrations.services import contacts_import

    client.force_login(marketer)
    body = b"".join(client.get(reverse("contact_export")).streaming_content)
    result = contacts_import(data=body, file_name="export.csv")
    assert result.job.rejected_count == 0
    assert result.job.imported_count == 0
    assert Contact.objects.count() == 3


def test_a_bad_filter_is_refused_naming_the_parameter(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse("contact_export"), {"stage": "hot"})
    assert response.status_code == 400
    assert b"stage:" in response.content


def test_a_role_without_the_export_permission_is_refused(client, rep):
    client.force_login(rep)
    assert client.get(reverse("contact_export")).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("contact_export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
