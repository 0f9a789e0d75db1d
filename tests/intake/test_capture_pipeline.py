from __future__ import annotations

import random
from datetime import UTC, datetime

import phonenumbers
import pytest
from django.db import connection, transaction

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.models import Account, Contact, StageChange
from accord.core.normalize import InvalidValue, normalize_phone
from accord.intake.leads import lead_from_mapping, phone_e164
from accord.dedup.keys import blocking_keys
from accord.dedup.models import MatchKey
from accord.dedup.queries import person_from_contact
from accord.intake.bulk_insert import rows_insert
from accord.intake.services import contact_capture, leads_capture_bulk

pytestmark = pytest.mark.django_db


def lead(**data):
    return lead_from_mapping(data, default_region="US")


def make_campaign(**values) -> Campaign:
    moment = now()
    return Campaign.objects.create(created_at=moment, updated_at=moment, **values)


def test_it_normalizes_email_phone_and_company_domain():
    outcome = contact_capture(lead=lead(email="  Ann.Lee@Acme.COM ", phone="(415) 555-2671", company="Acme"))
    contact = outcome.contact
    contact.refresh_from_db()
    assert contact.email == "ann.lee@acme.com"
    assert contact.phone == "+14155552671"
    assert contact.account.domain == "acme.com"
    assert contact.account.name == "Acme"


def test_it_does_not_take_a_company_domain_from_free_mail():
    outcome = contact_capture(lead=lead(email="ann@gmail.com"))
    assert outcome.contact.account is None
    assert Account.objects.count() == 0


def test_it_updates_the_existing_contact_found_by_email_and_never_empties_a_field():
    contact_capture(lead=lead(email="ann@acme.com", first_name="Ann", job_title="CTO"))
    outcome = contact_capture(lead=lead(email="ANN@acme.com", first_name="", last_name="Lee"))
    assert not outcome.created
    assert Contact.objects.count() == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Ann", "Lee", "CTO")
    assert Touchpoint.objects.filter(contact=contact).count() == 2


def test_it_resolves_the_campaign_from_utm_parameters_in_the_landing_url():
    campaign = make_campaign(name="Spring webinar", channel="webinar", utm_campaign="spring-webinar")
    outcome = contact_capture(
        lead=lead(email="bo@globex.com", landing_url="https://example.com/lp?utm_source=li&utm_campaign=Spring-Webinar")
    )
    touchpoint = outcome.touchpoint
    assert touchpoint.campaign == campaign
    assert touchpoint.channel == "webinar"
    assert touchpoint.utm_source == "li"
    contact = Contact.objects.get(pk=outcome.contact.pk)
    assert contact.first_touch_campaign == campaign
    assert contact.latest_touch_campaign == campaign


def test_it_keeps_the_first_touch_and_moves_the_latest_touch():
    first = make_campaign(name="Ads", channel="paid_search", utm_campaign="ads")
    second = make_campaign(name="Newsletter", channel="email", utm_campaign="news")
    contact_capture(lead=lead(email="cy@initech.com", utm_campaign="ads", occurred_at="2026-01-05T10:00:00Z"))
    contact_capture(lead=lead(email="cy@initech.com", utm_campaign="news", occurred_at="2026-03-01T10:00:00Z"))
    contact = Contact.objects.get(email="cy@initech.com")
    assert contact.first_touch_campaign == first
    assert contact.first_touch_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert contact.latest_touch_campaign == second
    assert contact.latest_touch_channel == "email"


def test_an_older_touch_arriving_late_becomes_the_first_touch():
    contact_capture(lead=lead(email="di@acme.com", occurred_at="2026-03-01T00:00:00Z", utm_medium="email"))
    contact_capture(lead=lead(email="di@acme.com", occurred_at="2026-01-01T00:00:00Z", utm_medium="cpc"))
    contact = Contact.objects.get(email="di@acme.com")
    assert contact.first_touch_channel == "paid_search"
    assert contact.latest_touch_channel == "email"


def test_a_new_contact_gets_a_stage_change_and_later_stages_only_move_forward(marketer):
    contact_capture(lead=lead(email="ed@acme.com"), actor=marketer)
    contact_capture(lead=lead(email="ed@acme.com", lifecycle_stage="mql"), actor=marketer)
    contact_capture(lead=lead(email="ed@acme.com", lifecycle_stage="subscriber"), actor=marketer)
    contact = Contact.objects.get(email="ed@acme.com")
    assert contact.lifecycle_stage == "mql"
    moves = list(StageChange.objects.filter(contact=contact).order_by("id").values_list("from_stage", "to_stage"))
    assert moves == [("", "lead"), ("lead", "mql")]
    assert StageChange.objects.filter(contact=contact, changed_by=marketer).count() == 2


def test_it_reuses_the_account_of_the_same_domain_and_fills_only_its_empty_fields():
    contact_capture(lead=lead(email="a@acme.com", company="Acme", industry="Software"))
    contact_capture(lead=lead(email="b@acme.com", company="ACME Inc", industry="Retail", employee_count="250"))
    account = Account.objects.get()
    assert account.name == "Acme"
    assert account.industry == "Software"
    assert account.employee_count == 250
    assert Contact.objects.filter(account=account).count() == 2


def test_it_refuses_an_unknown_campaign_id_and_stores_nothing():
    with pytest.raises(ValidationFailed) as refused:
        contact_capture(lead=lead(email="x@acme.com", campaign_id=999))
    assert "campaign_id" in refused.value.errors
    assert Contact.objects.count() == 0


def test_validation_names_every_bad_field():
    with pytest.raises(ValidationFailed) as refused:
        lead(email="not-an-email", phone="12", occurred_at="yesterday", lifecycle_stage="hot", employee_count="many",
             country="Germany", colour="blue")
    assert set(refused.value.errors) == {"colour"}
    with pytest.raises(ValidationFailed) as refused:
        lead(email="not-an-email", phone="12", occurred_at="yesterday", lifecycle_stage="hot", employee_count="many",
             country="Germany")
    assert set(refused.value.errors) == {"email", "phone", "occurred_at", "lifecycle_stage", "employee_count", "country"}


def test_validation_refuses_lists_and_objects_and_overlong_text_and_collapses_spaces():
    from collections import OrderedDict

    with pytest.raises(ValidationFailed) as refused:
        lead(email="ann@acme.com", city=["Paris"], note=OrderedDict(a=1), interests=["sso", "pricing"])
    assert set(refused.value.errors) == {"city", "note"}  # interests may be a list
    with pytest.raises(ValidationFailed) as refused:
        lead(email="ann@acme.com", first_name="x" * 101)
    assert refused.value.errors == {"first_name": "is longer than 100 characters"}
    # Spaces collapse before the length is checked; values that are not text are cleaned as text.
    taken = lead(email="ann@acme.com", first_name="  Ann   " + " " * 200 + " Marie ", external_id=12345)
    assert taken.contact["first_name"] == "Ann Marie" and taken.contact["external_id"] == "12345"


def test_bulk_capture_merges_rows_for_one_person_and_uses_a_fixed_number_of_queries(django_assert_max_num_queries):
    rows = [(i, lead(email=f"p{i % 50}@corp{i % 50 % 7}.com", first_name=f"P{i}", company=f"Corp {i % 50 % 7}")) for i in range(200)]
    # Fixed, whatever the row count: the pipeline's own queries, fuzzy matching and indexing
    # (dedup), and queueing one whole-base scan after the import.
    with django_assert_max_num_queries(28):
        summary = leads_capture_bulk(leads=rows, batch_size=500)
    assert summary.created == 50
    assert summary.updated == 150
    assert Contact.objects.count() == 50
    assert Account.objects.count() == 7
    assert Touchpoint.objects.count() == 200


def test_bulk_capture_with_dedupe_keys_records_each_row_once_when_run_again():
    rows = []
    for i in range(20):
        item = lead(email=f"q{i}@corp.com", first_name="Q")
        item.dedupe_key = f"key-{i}"
        rows.append((i, item))
    first = leads_capture_bulk(leads=rows)
    again = leads_capture_bulk(leads=rows)
    assert (first.created, again.created, again.updated, again.unchanged) == (20, 0, 0, 20)
    assert Touchpoint.objects.count() == 20


def test_the_match_keys_of_captured_contacts_are_those_of_the_contacts_as_stored():
    existing = contact_capture(lead=lead(email="old@acme.com", first_name="Olga", company="Acme Inc")).contact
    rows = [
        (0, lead(email="ann.lee@acme.com", first_name="Ann", last_name="Lee", phone="(415) 555-2671", city="Austin",
                 postcode="78701", street="1 Main Street", birth_date="1980-02-03", company="ACME")),
        (1, lead(email="bo@globex.com", first_name="Bo", last_name="Li", company="Globex", external_id="X-9")),
        (2, lead(email="old@acme.com", last_name="Olsen", state="TX")),  # a known contact, changed
        (3, lead(email="cy@gmail.com", first_name="Cy")),  # no company: no account
    ]

    def stored_and_indexed():
        stored = {
            contact.pk: sorted(blocking_keys(person_from_contact(contact)))
            for contact in Contact.objects.select_related("account")
        }
        indexed: dict[int, list[str]] = {}
        for contact_id, key in MatchKey.objects.values_list("contact_id", "key"):
            indexed.setdefault(contact_id, []).append(key)
        return stored, {pk: sorted(keys) for pk, keys in indexed.items()}

    leads_capture_bulk(leads=rows)
    stored, indexed = stored_and_indexed()
    assert indexed == stored
    assert any(key.startswith("c:acme") for key in stored[existing.pk])
    assert len(stored) == 4
    # Captured again, one with a new job title only, one with a new surname: the index follows.
    leads_capture_bulk(leads=[*rows, (4, lead(email="bo@globex.com", job_title="CTO")), (5, lead(email="cy@gmail.com", last_name="Yu"))])
    stored, indexed = stored_and_indexed()
    assert indexed == stored
    assert any(key.startswith("n:") for key in stored[Contact.objects.get(email="cy@gmail.com").pk])


def _either(normalize, value):
    try:
        return normalize(value)
    except InvalidValue as problem:
        return ("refused", str(problem))


def test_the_e164_shortcut_answers_exactly_as_the_full_phone_parse():
    # Random E.164-shaped numbers under every calling code, valid or not, plus the cases parse
    # reads specially (a national prefix after the code, Italy's leading zero, a non-geographic code).
    rng = random.Random(7)
    values = ["+14155552671", "+114155552671", "+390612345678", "+442079460000", "+4402079460000", "+80012345678",
              "+1415555267", "+999123456789", "  +14155552671 "]
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(30):
            values.append(f"+{code}" + "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 15 - len(str(code))))))
    for value in values:
        full = _either(lambda v: normalize_phone(v, "US"), value)
        assert _either(lambda v: phone_e164(v, "US"), value) == full, value
    assert phone_e164("+14155552671", "US") == "+14155552671"
    assert phone_e164("(415) 555-2671", "US") == "+14155552671"
    with pytest.raises(InvalidValue):
        phone_e164("+1415555", "US")


def test_bulk_insert_returns_the_id_of_each_row_in_order():
    moment = now()
    Account.objects.create(name="Before", created_at=moment, updated_at=moment)
    # More than one statement's worth of rows, and some left over after the last whole chunk.
    names = [f"Company {i}" for i in range(2537)]
    with transaction.atomic():
        ids = rows_insert(
            model=Account, columns=("name", "domain", "industry", "country", "website", "created_at", "updated_at"),
            rows=[(name, f"c{i}.example", "", "", "", moment, moment) for i, name in enumerate(names)], returning_ids=True,
        )
    assert len(set(ids)) == 2537
    assert ids == sorted(ids)
    assert dict(Account.objects.filter(pk__in=ids).values_list("pk", "name")) == dict(zip(ids, names))


@pytest.mark.parametrize("count", [1, 99, 100, 101, 537])
def test_bulk_insert_stores_every_row_in_order(count):
    rows = [(i, f"k:{i}") for i in range(count)]
    rows_insert(model=MatchKey, columns=("contact_id", "key"), rows=rows)
    assert list(MatchKey.objects.order_by("id").values_list("contact_id", "key")) == rows


@pytest.mark.django_db(transaction=True)
def test_a_bulk_capture_on_sqlite_gives_the_connection_its_own_settings_back():
    if connection.vendor != "sqlite":
        pytest.skip("the checkpoint and page-cache settings are SQLite's")

    def settings():
        with connection.cursor() as cursor:
            return [cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in ("wal_autocheckpoint", "cache_size")]

    before = settings()
    summary = leads_capture_bulk(leads=[(i, lead(email=f"p{i}@corp.com")) for i in range(30)], batch_size=10)
    assert summary.created == 30
    assert settings() == before


def test_a_bulk_capture_turns_the_cycle_collector_back_on_even_when_a_batch_fails():
    import gc

    assert gc.isenabled()
    leads_capture_bulk(leads=[(i, lead(email=f"q{i}@corp.com")) for i in range(30)], batch_size=10)
    assert gc.isenabled()

    def failing():
        yield 0, lead(email="r0@corp.com")
        raise RuntimeError("the file went away")

    with pytest.raises(RuntimeError):
        leads_capture_bulk(leads=failing(), batch_size=1)
    assert gc.isenabled()
    assert Contact.objects.filter(email="r0@corp.com").exists()


def test_bulk_insert_stores_texts_dates_decimals_and_json_exactly_as_given():
    from datetime import date, datetime, timedelta, timezone
    from decimal import Decimal

    from accord.campaigns.models import Touchpoint
    from accord.crm.models import Contact

    moment = now()
    elsewhere = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-5)))
    account_rows = [
        ("Tab\there", "a.example", "", 12, Decimal("1234567.50"), "US", "", moment, moment),
        ("Back\\slash\nnew line\r", "b.example", "Ünïcödé ✓", None, None, "", "", moment, elsewhere),
        ("Same", "c.example", "", 0, Decimal("0.00"), "", "", elsewhere, elsewhere),
    ]
    columns = ("name", "domain", "industry", "employee_count", "annual_revenue", "country", "website", "created_at", "updated_at")
    with transaction.atomic():
        ids = rows_insert(model=Account, columns=columns, rows=account_rows, returning_ids=True)
    stored = {a.pk: a for a in Account.objects.filter(pk__in=ids)}
    for pk, row in zip(ids, account_rows, strict=True):
        assert tuple(getattr(stored[pk], name) for name in columns) == row

    contact = Contact.objects.create(email="t@x.example", birth_date=date(1980, 3, 4), created_at=moment, updated_at=moment)
    metadata = [{}, {"k": "tab\tline\nslash\\ \"quoted\" é"}, {"n": [1, 2.5, True, None]}]
    tp_columns = ("contact_id", "kind", "channel", "team", "occurred_at", "url", "utm_source", "utm_medium", "utm_campaign",
                  "subject", "body", "metadata", "dedupe_key", "created_at")
    rows_insert(
        model=Touchpoint,
        columns=tp_columns,
        rows=[
            (contact.pk, "note", "", "sales", elsewhere, "", "", "", "", f"s{i}\t\\N", f"line\n{i}", value, "", moment)
            for i, value in enumerate(metadata)
        ],
    )
    read = list(Touchpoint.objects.order_by("id").values_list("subject", "body", "metadata", "occurred_at"))
    assert read == [(f"s{i}\t\\N", f"line\n{i}", value, elsewhere) for i, value in enumerate(metadata)]


@pytest.mark.parametrize("count", [2, 150])
def test_bulk_insert_writes_a_value_shared_by_every_row_as_it_would_bind_it(count):
    moment = now()
    odd = "It's 100%s done, %% and %(name)s ☃ \\ \"quoted\""
    rows = [(odd, f"d{i}.example", "", 7, None, "US", "", moment, moment) for i in range(count)]
    columns = ("name", "domain", "industry", "employee_count", "annual_revenue", "country", "website", "created_at", "updated_at")
    with transaction.atomic():
        ids = rows_insert(model=Account, columns=columns, rows=rows, returning_ids=True)
    assert list(Account.objects.filter(pk__in=ids).order_by("id").values_list(*columns)) == rows
    # Every column the same in every row, and a column whose values are equal but of two types.
    rows_insert(model=MatchKey, columns=("contact_id", "key"), rows=[(5, "k:same")] * count)
    assert MatchKey.objects.filter(contact_id=5, key="k:same").count() == count
    if connection.vendor == "sqlite":  # PostgreSQL refuses a boolean for a number
        rows_insert(model=MatchKey, columns=("contact_id", "key"), rows=[(True, "k:a"), (1, "k:b")])
        assert MatchKey.objects.filter(contact_id=1).count() == 2
