from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.core.models import Role
from accord.crm.models import Contact
from accord.integrations.models import ImportJob
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

FILE = (
    "E-mail,Vorname,Company Name,Phone Number\n"
    "ann@acme.com,Ann,Acme,(415) 555-2671\n"
    "broken,Bo,Globex,\n"
    "cy@initech.com,<b>Cy</b>,Initech,\n"
).encode("utf-8-sig")


def upload(client, data=FILE, **extra):
    return client.post(reverse("import_start"), {"file": SimpleUploadedFile("leads.csv", data, "text/csv"), **extra})


def test_an_upload_shows_the_detected_mapping_before_anything_is_stored(client, marketer):
    client.force_login(marketer)
    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "3 rows" in page
    assert 'name="column-0"' in page and '<option value="email" selected>' in page
    assert '<option value="company" selected>' in page
    assert "&lt;b&gt;Cy&lt;/b&gt;" in page and "<b>Cy</b>" not in page
    assert Contact.objects.count() == 0
    assert job.status == ImportJob.Status.PREVIEW


def test_confirming_with_an_explicit_mapping_imports_and_lists_rejects_by_line(client, marketer):
    client.force_login(marketer)
    job_url = upload(client)["Location"]
    response = client.post(job_url, {"column-0": "email", "column-1": "first_name", "column-2": "company", "column-3": ""})
    assert response.status_code == 302
    page = client.get(job_url).content.decode()
    assert "imported 2, updated 0, rejected 1" in page
    assert "email: &#x27;broken&#x27; is not a valid email address" in page
    assert Contact.objects.get(email="ann@acme.com").first_name == "Ann"
    assert Contact.objects.get(email="ann@acme.com").phone == ""  # the phone column was left out
    assert Contact.objects.get(email="cy@initech.com").first_name == "<b>Cy</b>"
    job = ImportJob.objects.get()
    assert (job.status, job.created_by, job.source, job.upload.name) == ("done", marketer, "web", "")
    rejects = client.get(reverse("import_rejects", args=[job.pk]))
    assert rejects.content.decode("utf-8-sig").splitlines()[1] == "3,email: 'broken' is not a valid email address,broken,Bo,Globex,"


def test_a_mapping_without_email_is_refused_naming_the_problem(client, marketer):
    client.force_login(marketer)
    job_url = upload(client)["Location"]
    response = client.post(job_url, {"column-0": "", "column-1": "first_name"})
    assert response.status_code == 422
    assert "map one to email" in response.content.decode()
    assert Contact.objects.count() == 0


def test_uploading_the_same_file_twice_creates_no_duplicates(client, marketer):
    moment = now()
    campaign = Campaign.objects.create(name="Fair", utm_campaign="fair", created_at=moment, updated_at=moment)
    client.force_login(marketer)
    for _ in range(2):
        job_url = upload(client, campaign=str(campaign.pk))["Location"]
        client.post(job_url, {"column-0": "email", "column-1": "first_name", "column-2": "company", "column-3": "phone"})
    assert Contact.objects.count() == 2
    assert Touchpoint.objects.filter(campaign=campaign).count() == 2
    assert list(ImportJob.objects.order_by("id").values_list("imported_count", "rejected_count")) == [(2, 1), (0, 1)]


def test_a_file_that_is_not_csv_is_refused(client, marketer):
    client.force_login(marketer)
    response = upload(client, data=b"")
    assert response.status_code == 422
    assert ImportJob.objects.count() == 0


def test_sales_may_not_import_and_people_see_only_their_own_imports(client, marketer, rep):
    client.force_login(marketer)
    job_url = upload(client)["Location"]
    client.force_login(rep)
    assert client.get(reverse("import_start")).status_code == 403
    other = make_user(Role.MARKETING, username="otto")
    client.force_login(other)
    assert client.get(job_url).status_code == 404
    assert "leads.csv" not in client.get(reverse("import_start")).content.decode()


def test_the_import_list_uses_a_fixed_number_of_queries(client, manager, django_assert_max_num_queries):
    moment = now()
    ImportJob.objects.bulk_create(
        [ImportJob(file_name=f"f{i}.csv", created_by=manager, started_at=moment, imported_count=i) for i in range(30)]
    )
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("import_start"))
    assert response.status_code == 200
    assert "f29.csv" in response.content.decode()


def test_the_import_link_is_shown_only_to_roles_that_may_import(client, marketer, rep):
    client.force_login(rep)
    assert client.get(reverse("import_start")).status_code == 403
    assert 'href="/import/"' not in client.get("/contacts/").content.decode()
    client.force_login(marketer)
    assert 'href="/import/"' in client.get("/contacts/").content.decode()
