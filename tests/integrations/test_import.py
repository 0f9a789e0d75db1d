from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.crm.models import Account, Contact
from accord.integrations.models import ImportJob
from accord.integrations.services import contacts_import

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "Email,First Name,Last Name,Phone,Company,Country\n"
    "ann@acme.com,Ann,Lee,(415) 555-2671,Acme,US\n"
    "not-an-email,Bo,Bad,,Globex,US\n"
    "cy@initech.com,Cy,Young,12,Initech,DE\n"
    "\n"
    "di@umbrella.com,Di,Ross,,Umbrella,Germany\n"
    ",Ed,NoMail,,,\n"
)


def run_import(tmp_path, text: str | bytes, *args, name="contacts.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    out, err = StringIO(), StringIO()
    call_command("import", "contacts", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_stores_every_good_row_and_rejects_every_bad_row_with_its_line_and_reason(tmp_path):
    rejects = tmp_path / "rejects.csv"
    out, err = run_import(tmp_path, GOOD_AND_BAD, "--rejects", str(rejects))

    assert "imported 2, updated 0, rejected 3" in out
    assert set(Contact.objects.values_list("email", flat=True)) == {"ann@acme.com", "di@umbrella.com"}
    assert Contact.objects.get(email="di@umbrella.com").country == "DE"
    assert Contact.objects.get(email="ann@acme.com").phone == "+14155552671"
    assert "line 3: email: 'not-an-email' is not a valid email address" in err
    assert "line 4: phone:" in err
    assert "line 7: email: is required" in err

    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "reason", "Email", "First Name", "Last Name", "Phone", "Company", "Country"]
    assert [row[0] for row in rows[1:]] == ["3", "4", "7"]
    assert rows[2][2:] == ["cy@initech.com", "Cy", "Young", "12", "Initech", "DE"]


def test_importing_the_same_file_again_creates_no_duplicates(tmp_path):
    run_import(tmp_path, GOOD_AND_BAD)
    counts = (Contact.objects.count(), Account.objects.count(), Touchpoint.objects.count())
    out, _ = run_import(tmp_path, GOOD_AND_BAD)
    assert "imported 0, updated 0, rejected 3" in out
    assert (Contact.objects.count(), Account.objects.count(), Touchpoint.objects.count()) == counts


def test_a_re_import_with_every_row_changed_updates_every_contact_and_creates_none(tmp_path):
    header = "email,first name,last name,job title,phone,birth date\n"
    first = "".join(f"p{i}@corp{i % 3}.com,Pat{i},Lee,Analyst,,\n" for i in range(40))
    # Rows change different sets of fields: each set is written by its own statement.
    second = "".join(
        f"p{i}@corp{i % 3}.com,Pat{i},Lee,CTO,+1 415 555 {1000 + i},{'1980-02-03' if i % 2 else ''}\n" for i in range(40)
    )
    run_import(tmp_path, header + first)
    before = {c.email: (c.pk, c.updated_at) for c in Contact.objects.all()}
    out, _ = run_import(tmp_path, header + second)
    assert "imported 0, updated 40, rejected 0" in out
    contacts = {c.email: c for c in Contact.objects.all()}
    assert {email: c.pk for email, c in contacts.items()} == {email: pk for email, (pk, _) in before.items()}
    for i in range(40):
        contact = contacts[f"p{i}@corp{i % 3}.com"]
        assert (contact.first_name, contact.job_title, contact.phone) == (f"Pat{i}", "CTO", f"+1415555{1000 + i}")
        assert str(contact.birth_date or "") == ("1980-02-03" if i % 2 else "")
        assert contact.updated_at > before[contact.email][1]
    assert Touchpoint.objects.count() == 80  # each changed row is a new interaction
    # Imported again unchanged: nothing is written, nothing is duplicated.
    out, _ = run_import(tmp_path, header + second)
    assert "imported 0, updated 0, rejected 0" in out
    assert (Contact.objects.count(), Touchpoint.objects.count()) == (40, 80)


def test_a_changed_row_updates_the_contact_without_emptying_fields(tmp_path):
    run_import(tmp_path, "email,first name,job title\nann@acme.com,Ann,CTO\n")
    out, _ = run_import(tmp_path, "email,first name,job title\nann@acme.com,,CEO\n")
    assert "imported 0, updated 1, rejected 0" in out
    contact = Contact.objects.get()
    assert (contact.first_name, contact.job_title) == ("Ann", "CEO")


@pytest.mark.parametrize(
    "encoded",
    [
        "Email,First Name,Last Name\nzoe@acme.com,Zoë,Müller\n".encode(),
        "\ufeffEmail,First Name,Last Name\nzoe@acme.com,Zoë,Müller\n".encode(),
        "Email,First Name,Last Name\nzoe@acme.com,Zoë,Müller\n".encode("latin-1"),
        "Email;First Name;Last Name\r\nzoe@acme.com;Zoë;Müller\r\n".encode("cp1252"),
    ],
    ids=["utf-8", "utf-8 with BOM", "latin-1", "windows-1252 with semicolons"],
)
def test_it_reads_utf8_with_or_without_bom_and_latin1(tmp_path, encoded):
    out, _ = run_import(tmp_path, encoded)
    assert "imported 1, updated 0, rejected 0" in out
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == ("zoe@acme.com", "Zoë", "Müller")


def test_it_maps_a_hubspot_contact_export(tmp_path):
    hubspot = (
        "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Job Title,Company Name,"
        "Website URL,Street Address,City,State/Region,Postal Code,Country/Region,Lifecycle Stage,"
        "Number of Employees,Annual Revenue,Industry,Contact owner\n"
        "5101,Ann,Lee,ann@acme.com,+1 415 555 2671,+1 415 555 0000,VP Sales,Acme Corp,https://www.acme.com,"
        "1 Main St,Springfield,CA,94016,United States,Marketing Qualified Lead,250,1000000,Software,Jane Doe\n"
    )
    out, _ = run_import(tmp_path, hubspot)
    assert "Mobile Phone Number → mobile_phone" in out
    assert "Contact owner → (not imported)" in out
    contact = Contact.objects.select_related("account").get()
    assert contact.external_id == "5101"
    assert contact.phone == "+14155552671"
    assert (contact.job_title, contact.city, contact.state, contact.postcode, contact.country) == (
        "VP Sales", "Springfield", "CA", "94016", "US"
    )
    assert contact.lifecycle_stage == "mql"
    assert (contact.account.name, contact.account.domain, contact.account.employee_count) == ("Acme Corp", "acme.com", 250)


def test_it_maps_a_salesforce_contact_export(tmp_path):
    salesforce = (
        "Contact ID,Salutation,First Name,Last Name,Title,Account Name,Email,Phone,Mobile,Mailing Street,"
        "Mailing City,Mailing State/Province,Mailing Zip/Postal Code,Mailing Country,Lead Source,Birthdate,Description\n"
        "0035g00000AbCdE,Ms.,Bea,Stone,CFO,Globex,bea@globex.com,,+49 30 1234567,Unter den Linden 1,Berlin,,10117,"
        "Germany,Web,1980-02-03,Met at a fair\n"
    )
    run_import(tmp_path, salesforce)
    contact = Contact.objects.select_related("account").get()
    assert contact.external_id == "0035g00000AbCdE"
    assert contact.phone == "+49301234567"
    assert (contact.job_title, contact.account.name, contact.country, contact.postcode) == ("CFO", "Globex", "DE", "10117")
    assert str(contact.birth_date) == "1980-02-03"
    assert Touchpoint.objects.get().body == "Met at a fair"


def test_an_explicit_mapping_overrides_the_detected_one(tmp_path):
    text = "E-mail address,Nickname,Org\nann@acme.com,Annie,Acme\n"
    with pytest.raises(CommandError, match="email"):
        run_import(tmp_path, "Address,Nickname\nann@acme.com,Annie\n")
    run_import(tmp_path, text, "--map", "Nickname=first_name", "--map", "org=company")
    contact = Contact.objects.select_related("account").get()
    assert (contact.first_name, contact.account.name) == ("Annie", "Acme")


def test_it_refuses_a_mapping_to_an_unknown_field(tmp_path):
    with pytest.raises(CommandError, match="'colour' is not a contact field"):
        run_import(tmp_path, "email,x\na@b.com,1\n", "--map", "x=colour")


def test_a_campaign_given_on_the_command_line_is_recorded_on_each_touchpoint(tmp_path, marketer):
    moment = now()
    campaign = Campaign.objects.create(name="Trade fair", channel="event", utm_campaign="fair", created_at=moment, updated_at=moment)
    run_import(tmp_path, "email\na@acme.com\nb@acme.com\n", "--campaign", "fair", "--user", marketer.username)
    assert set(Touchpoint.objects.values_list("campaign", "kind", "team", "actor")) == {
        (campaign.pk, "import", "marketing", marketer.pk)
    }
    assert Contact.objects.filter(first_touch_campaign=campaign).count() == 2


def test_each_import_is_recorded_as_a_job_with_its_counts_and_rejects(tmp_path, marketer):
    result = contacts_import(data=GOOD_AND_BAD.encode(), file_name="leads.csv", actor=marketer)
    job = ImportJob.objects.get()
    assert job == result.job
    assert (job.created_by, job.file_name, job.rows_total) == (marketer, "leads.csv", 5)
    assert (job.imported_count, job.updated_count, job.rejected_count) == (2, 0, 3)
    assert [reject["line"] for reject in job.rejects] == [3, 4, 7]
    assert job.mapping["Country"] == "country"


def test_rows_are_stored_set_wise_in_batches(tmp_path, django_assert_max_num_queries):
    text = "email,company\n" + "".join(f"p{i}@corp{i % 9}.com,Corp {i % 9}\n" for i in range(300))
    # A fixed number per batch, including fuzzy matching and the match-key index (dedup).
    with django_assert_max_num_queries(62):
        contacts_import(data=text.encode(), file_name="many.csv", batch_size=100)
    assert Contact.objects.count() == 300
    assert Touchpoint.objects.count() == 300
