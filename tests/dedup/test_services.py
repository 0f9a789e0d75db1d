"""Capture, scan, merge and undo through the services, against the database."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.core import serializers

from accord.campaigns.models import Touchpoint
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.models import Account, Contact, ContactInterest, Opportunity, StageChange
from accord.dedup.models import Decision, MatchModel, Merge, Suggestion, SuggestionStatus
from accord.dedup.services import (
    import_preview,
    match_model_learn,
    merge_undo,
    records_merge,
    scan_run,
    suggestion_explain,
    suggestion_mark_distinct,
    suggestion_merge,
)
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture, leads_capture_bulk

pytestmark = pytest.mark.django_db


def lead(**data):
    return lead_from_mapping(data, default_region="US", require_email=False)


def capture(**data) -> Contact:
    return contact_capture(lead=lead(**data)).contact


def everything_about(contact_ids):
    """A full dump of the contacts and every row that points at them, for exact comparisons."""
    contacts = Contact.objects.filter(pk__in=contact_ids).order_by("pk")
    rows = [
        *contacts,
        *Touchpoint.objects.filter(contact_id__in=contact_ids).order_by("pk"),
        *StageChange.objects.filter(contact_id__in=contact_ids).order_by("pk"),
        *ContactInterest.objects.filter(contact_id__in=contact_ids).order_by("pk"),
        *Opportunity.objects.filter(primary_contact_id__in=contact_ids).order_by("pk"),
    ]
    return serializers.serialize("json", rows)


def two_records():
    jon = capture(email="jon@acme.com", first_name="Jon", last_name="Smyth", company="Acme Corp.", interests="sso,pricing")
    jonathan = capture(
        email="jonathan.smith@gmail.com", first_name="Jonathan", last_name="Smith", phone="+14155552671",
        job_title="CTO", interests="pricing", lifecycle_stage="mql",
    )
    moment = now()
    Opportunity.objects.create(name="Acme deal", primary_contact=jonathan, amount=1000, created_at=moment, updated_at=moment)
    return jon, jonathan


def test_capture_updates_an_existing_contact_found_by_phone_instead_of_duplicating():
    first = capture(email="ann@acme.com", first_name="Ann", last_name="Lee", phone="415 555 2671")
    outcome = contact_capture(lead=lead(first_name="Ann", last_name="Lee", phone="+1 (415) 555-2671", job_title="VP"))
    assert not outcome.created
    assert outcome.contact.pk == first.pk
    assert Contact.objects.count() == 1
    assert Contact.objects.get().job_title == "VP"


def test_capture_updates_a_fuzzy_match_above_the_high_threshold_and_keeps_its_email():
    first = capture(email="jon@acme.com", first_name="Jonathan", last_name="Smith", birth_date="1980-03-04", city="Boston", postcode="02110", street="1 Main Street")
    outcome = contact_capture(
        lead=lead(email="jsmith@acme.com", first_name="Jon", last_name="Smyth", birth_date="1980-03-04", city="Boston", postcode="02110", street="1 Main St")
    )
    assert outcome.contact.pk == first.pk and not outcome.created
    contact = Contact.objects.get()
    assert contact.email == "jon@acme.com"
    assert Touchpoint.objects.filter(contact=contact).count() == 2


def test_capture_in_the_grey_zone_creates_the_contact_and_queues_the_pair_for_review():
    first = capture(email="jon@acme.com", first_name="Jon", last_name="Smyth", company="Acme Corp.")
    outcome = contact_capture(lead=lead(email="jonathan@gmail.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation"))
    assert outcome.created
    suggestion = Suggestion.objects.get()
    assert {suggestion.left_id, suggestion.right_id} == {first.pk, outcome.contact.pk}
    assert suggestion.status == SuggestionStatus.PENDING and suggestion.source == "capture"
    assert 0.5 <= suggestion.probability < 0.999
    fields = {row["field"]: row for row in suggestion_explain(suggestion)}
    assert fields["company"]["level"] == "same company"
    assert fields["first"]["weight"] > 0


def test_stop_values_do_not_glue_unrelated_people_together_at_capture():
    capture(email="test@test.com", first_name="Ann", last_name="Lee", phone="+1 415 000 0000", postcode="n/a")
    outcome = contact_capture(lead=lead(email="test@test.com", first_name="Bob", last_name="Ray", phone="+1 415 000 0000", postcode="n/a"))
    assert outcome.created
    assert Contact.objects.count() == 2
    assert not Suggestion.objects.exists()


def test_two_people_with_the_same_common_name_at_different_companies_are_not_merged_at_capture():
    first = capture(email="ann.smith.5@company5.example", first_name="Ann", last_name="Smith", phone="+14152000005", company="Company 5", city="New York")
    # Same name and city, a phone one digit apart: strong evidence by the model, yet both write
    # from their own employer's domain, so at most a person is asked.
    outcome = contact_capture(
        lead=lead(email="ann.smith.15@company15.example", first_name="Ann", last_name="Smith", phone="+14152000015", company="Company 15", city="New York")
    )
    assert outcome.created and outcome.contact.pk != first.pk
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["ann.smith.15@company15.example", "ann.smith.5@company5.example"]
    assert Contact.objects.get(pk=first.pk).phone == "+14152000005"
    for suggestion in Suggestion.objects.all():
        assert suggestion.status == SuggestionStatus.PENDING and suggestion.source == "capture"


def test_two_namesakes_at_one_company_with_their_own_mailboxes_are_not_merged_at_capture():
    first = capture(email="ann.smith.5@company5.example", first_name="Ann", last_name="Smith", phone="+14152000005", company="Company 5", city="New York")
    outcome = contact_capture(
        lead=lead(email="ann.smith.20005@company5.example", first_name="Ann", last_name="Smith", phone="+14152020005", company="Company 5", city="New York")
    )
    assert outcome.created and outcome.contact.pk != first.pk
    assert Contact.objects.count() == 2
    suggestion = Suggestion.objects.get()  # very probable by the model: a person decides
    assert {suggestion.left_id, suggestion.right_id} == {first.pk, outcome.contact.pk}
    assert suggestion.status == SuggestionStatus.PENDING


def test_a_bulk_import_of_namesakes_at_different_companies_keeps_one_contact_per_person():
    firsts, lasts, cities = ("Ann", "Ben"), ("Smith", "Garcia"), ("New York", "Austin")
    rows = []
    for i in range(240):
        first, last, company = firsts[i % 2], lasts[i // 2 % 2], i % 48
        rows.append((i, lead(
            email=f"{first.lower()}.{last.lower()}.{i}@company{company}.example", first_name=first, last_name=last,
            phone=f"+1415{2000000 + i:07d}", company=f"Company {company}", city=cities[i // 4 % 2],
        )))
    # Small batches, as a long import runs: every batch is matched against the contacts before it.
    summary = leads_capture_bulk(leads=rows, batch_size=40)
    assert summary.created == 240 and summary.updated == 0
    assert Contact.objects.count() == 240
    assert not Suggestion.objects.exclude(status=SuggestionStatus.PENDING).exists()
    # Namesakes that share only their names and city are not queued: nobody could tell them
    # apart on that. What is queued agrees on more: the same company (two mailboxes there), or
    # a phone one digit apart (the numbers are consecutive).
    from accord.dedup.engine import FIELD_NAMES, agrees_beyond_names_and_place

    queued = list(Suggestion.objects.values_list("levels", flat=True))
    assert queued
    assert agrees_beyond_names_and_place(np.asarray(queued, dtype=np.int8)).all()
    phone, company = FIELD_NAMES.index("phone"), FIELD_NAMES.index("company")
    assert all(levels[phone] == 1 or levels[company] == 2 for levels in queued)


@pytest.mark.parametrize("email", ["jon.smyth@acme.com", "jon.smyth@gmail.com"])
def test_jon_smyth_of_acme_corp_is_still_jonathan_smith_of_acme_corporation_when_the_rest_agrees(email):
    first = capture(
        email="jonathan.smith@acme.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation",
        birth_date="1980-03-04", city="Boston", postcode="02110", street="1 Main Street",
    )
    outcome = contact_capture(
        lead=lead(email=email, first_name="Jon", last_name="Smyth", company="Acme Corp.", birth_date="1980-03-04", city="Boston", postcode="02110", street="1 Main St", job_title="CTO")
    )
    assert not outcome.created and outcome.contact.pk == first.pk
    contact = Contact.objects.get()
    assert contact.email == "jonathan.smith@acme.com" and contact.job_title == "CTO"


FIRST_NAMES = "Anna Boris Chloe Dmitri Elena Farid Greta Hiro Ines Jakob Kamala Lars Mireille Nuno Olga Pavel Quentin Rosa Sven Tomasz".split()
LAST_NAMES = "Kowalski Nakamura Oliveira Lindqvist Brennan Haddad Moreau Petrov Castillo Fischer Okafor Rossi Dubois Jansen Novak Ibrahim Walsh Costa Berger Yilmaz".split()


def test_an_import_full_of_near_duplicates_updates_instead_of_duplicating():
    for i in range(20):
        capture(email=f"p{i}@example.org", first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i], birth_date=f"1971-02-{i + 1:02d}", postcode=f"{3000 + 7 * i}", city="Lyon")
    # The same people typed again without their email, with a typo in the surname.
    rows = [
        (i, lead(first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i][:-1] + "y", birth_date=f"1971-02-{i + 1:02d}", postcode=f"{3000 + 7 * i}", city="Lyon", job_title="Buyer"))
        for i in range(20)
    ]
    preview = import_preview([row for _, row in rows])
    assert preview.probable + preview.exact == 20 and preview.new == 0
    summary = leads_capture_bulk(leads=rows)
    assert summary.created == 0 and summary.updated == 20
    assert Contact.objects.count() == 20
    assert set(Contact.objects.values_list("job_title", flat=True)) == {"Buyer"}


def test_merge_moves_every_row_and_undo_restores_both_records_exactly():
    jon, jonathan = two_records()
    before = everything_about([jon.pk, jonathan.pk])
    merge = records_merge(survivor_id=jon.pk, loser_id=jonathan.pk, choices={"first_name": "loser", "last_name": "loser", "email": "survivor"})
    survivor = Contact.objects.get()
    assert (survivor.first_name, survivor.last_name, survivor.email) == ("Jonathan", "Smith", "jon@acme.com")
    assert survivor.phone == "+14155552671" and survivor.job_title == "CTO"  # most recent non-empty
    assert survivor.lifecycle_stage == "mql"
    assert Touchpoint.objects.filter(contact=survivor).count() == 2
    assert Opportunity.objects.get().primary_contact_id == survivor.pk
    assert set(survivor.interests.values_list("name", flat=True)) == {"sso", "pricing"}
    assert Decision.objects.get().verdict == "merged"

    merge_undo(merge=merge)
    assert everything_about([jon.pk, jonathan.pk]) == before
    merge.refresh_from_db()
    assert merge.is_undone


def test_merge_refuses_a_record_someone_changed_since_it_was_shown():
    jon, jonathan = two_records()
    seen = {jon.pk: jon.updated_at, jonathan.pk: Contact.objects.get(pk=jonathan.pk).updated_at}
    Contact.objects.filter(pk=jon.pk).update(job_title="CEO", updated_at=now() + timedelta(seconds=1))
    with pytest.raises(ValidationFailed) as refused:
        records_merge(survivor_id=jon.pk, loser_id=jonathan.pk, seen_versions=seen)
    assert "version" in refused.value.errors
    assert Contact.objects.count() == 2


def test_a_three_way_chain_merges_and_unwinds_in_order():
    a = capture(email="sunflower@gmail.com", first_name="Kim", last_name="Olsen")
    b = capture(email="bluebird@gmail.com", first_name="Kim", last_name="Olsen", city="Oslo")
    c = capture(email="rockpool@gmail.com", first_name="Kim", last_name="Olsen", postcode="0150")
    assert len({a.pk, b.pk, c.pk}) == 3
    before = everything_about([a.pk, b.pk, c.pk])
    first = records_merge(survivor_id=b.pk, loser_id=a.pk)
    second = records_merge(survivor_id=c.pk, loser_id=b.pk)
    assert Contact.objects.count() == 1
    assert Touchpoint.objects.filter(contact_id=c.pk).count() == 3
    # The pair a–b cannot be merged again: a is gone, and says where it went.
    with pytest.raises(ValidationFailed) as gone:
        records_merge(survivor_id=c.pk, loser_id=a.pk)
    assert "merged into" in gone.value.errors["loser_id"]
    with pytest.raises(ValidationFailed) as out_of_order:
        merge_undo(merge=first)
    assert f"undo merge #{second.pk} first" in out_of_order.value.errors["merge"]
    merge_undo(merge=second)
    merge_undo(merge=first)
    assert everything_about([a.pk, b.pk, c.pk]) == before


def test_not_a_duplicate_is_remembered_and_never_suggested_again():
    capture(email="jon@acme.com", first_name="Jon", last_name="Smyth", company="Acme Corp.")
    capture(email="jonathan@gmail.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation")
    suggestion = Suggestion.objects.get()
    suggestion_mark_distinct(suggestion=suggestion, actor=None)
    Suggestion.objects.all().delete()  # even if the queue were lost, the decision stays
    scan_run()
    capture(email="jonathan@gmail.com", first_name="Jonathan", last_name="Smith", company="ACME Corporation")
    assert not Suggestion.objects.filter(kind="contact", status=SuggestionStatus.PENDING).exists()
    assert Suggestion.objects.filter(kind="account", status=SuggestionStatus.PENDING).exists()


def test_the_model_learns_from_merges_and_not_a_duplicate_decisions():
    for i in range(8):
        capture(email=f"a{i}@acme.com", first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i], company="Acme")
        capture(email=f"{LAST_NAMES[i + 8].lower()}@gmail.com", first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i] + "e")
    suggestions = list(Suggestion.objects.filter(kind="contact", status="pending").order_by("id"))
    assert len(suggestions) == 8
    before = suggestions[-1].probability
    for suggestion in suggestions[:6]:
        suggestion_mark_distinct(suggestion=suggestion, actor=None)
    model = match_model_learn()
    assert model.parameters["details"]["distinct_decisions"] == 6
    remaining = suggestions[-1]
    from accord.dedup.engine import MatchParameters
    import numpy as np

    after = float(MatchParameters.from_json(model.parameters).probabilities(np.asarray([remaining.levels], dtype=np.int8))[0])
    assert after < before


def test_a_scan_finds_duplicates_and_a_second_scan_queues_nothing_twice():
    for i in range(20):
        capture(email=f"x{i}@corp{i}.com", first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i], birth_date=date(1950 + i, 3, 1 + i).isoformat(), postcode=f"{1000 + 37 * i}")
    for i in range(8):
        # Typed in by hand elsewhere: no email, a typo in the surname.
        Contact.objects.create(
            first_name=FIRST_NAMES[i], last_name=LAST_NAMES[i][:-1] + "y", birth_date=date(1950 + i, 3, 1 + i), postcode=f"{1000 + 37 * i}",
            created_at=now(), updated_at=now(),
        )
    scan = scan_run()
    assert scan.status == "done" and scan.records == 28 and scan.progress == 1.0
    pairs = set(Suggestion.objects.filter(kind="contact").values_list("left_id", "right_id"))
    assert len(pairs) == 8
    assert MatchModel.objects.exists()
    scan_run()
    assert Suggestion.objects.filter(kind="contact").count() == 8


def test_accounts_are_matched_by_normalized_name_and_merged_with_their_contacts():
    moment = now()
    acme = Account.objects.create(name="ACME Corporation", domain="acme.com", created_at=moment, updated_at=moment)
    acme2 = Account.objects.create(name="Acme Corp.", domain="acme.de", created_at=moment, updated_at=moment)
    Account.objects.create(name="Globex", domain="globex.com", created_at=moment, updated_at=moment)
    person = capture(email="x@acme.de", first_name="Ute", last_name="Berg")
    assert person.account_id == acme2.pk
    scan_run()
    suggestion = Suggestion.objects.get(kind="account")
    assert {suggestion.left_id, suggestion.right_id} == {acme.pk, acme2.pk}
    merge = suggestion_merge(suggestion=suggestion, actor=None, survivor_id=acme.pk)
    assert Contact.objects.get(pk=person.pk).account_id == acme.pk
    merge_undo(merge=merge)
    assert Contact.objects.get(pk=person.pk).account_id == acme2.pk
    assert Account.objects.get(pk=acme2.pk).domain == "acme.de"


def test_the_scan_job_and_the_command_run_the_same_scan(capsys):
    from django.core.management import call_command

    from accord.dedup.jobs import run_scan
    from accord.dedup.models import Scan
    from accord.worker.registry import discover_handlers

    assert "dedup.scan" in discover_handlers()
    capture(email="jon@acme.com", first_name="Jon", last_name="Smyth")
    scan = Scan.objects.create(created_at=now())
    run_scan({"scan_id": scan.pk})
    scan.refresh_from_db()
    assert scan.status == "done" and scan.records == 1
    run_scan({"scan_id": scan.pk})  # done already: nothing happens
    call_command("dedup", "scan", verbosity=0)
    assert "scanned 1 contacts" in capsys.readouterr().out


def test_an_import_that_creates_contacts_queues_one_whole_base_scan():
    from accord.dedup.models import Scan
    from accord.worker.models import Job

    leads_capture_bulk(leads=[(1, lead(email="new@corp.com", first_name="Nia"))])
    leads_capture_bulk(leads=[(1, lead(email="other@corp.com", first_name="Oto"))])
    assert Scan.objects.filter(status="queued").count() == 1
    assert Job.objects.filter(name="dedup.scan").count() == 1


def test_a_scan_queues_no_colleagues_even_when_the_model_finds_them_alike():
    # Companies whose people share an account, a town and often a first initial: on such a
    # base, with few duplicates, EM learns "same company, same town" as the matching class.
    moment = now()
    contacts = []
    for c in range(30):
        account = Account.objects.create(name=f"Company {c}", domain=f"company{c}.example", created_at=moment, updated_at=moment)
        for p in range(12):
            first, last = FIRST_NAMES[p % 4 + (c % 2)], LAST_NAMES[(7 * c + p) % len(LAST_NAMES)]
            contacts.append(Contact(first_name=first, last_name=last, email=f"{first}.{last}.{c}.{p}@company{c}.example".lower(),
                                    city="Seattle", account=account, created_at=moment, updated_at=moment))
    # Two people who signed up twice, once from a private address.
    for first, last in (("Hana", "Kowalczyk"), ("Idris", "Okonkwo")):
        for email in (f"{first}@gmail.com", f"{first}.{last}@elsewhere.example"):
            contacts.append(Contact(first_name=first, last_name=last, email=email.lower(), city="Seattle",
                                    birth_date=date(1985, 4, 5), created_at=moment, updated_at=moment))
    Contact.objects.bulk_create(contacts)

    scan_run()

    names = {pk: (first, last) for pk, first, last in Contact.objects.values_list("pk", "first_name", "last_name")}
    pairs = [tuple(sorted((names[s.left_id], names[s.right_id]))) for s in Suggestion.objects.filter(kind="contact")]
    assert (("Hana", "Kowalczyk"), ("Hana", "Kowalczyk")) in pairs
    assert (("Idris", "Okonkwo"), ("Idris", "Okonkwo")) in pairs
    assert all(a[1] == b[1] for a, b in pairs), pairs  # nobody is queued beside a colleague


def test_companies_whose_names_only_contain_one_another_are_suggested_only_with_the_same_domain_name():
    moment = now()

    def account(name, domain=""):
        return Account.objects.create(name=name, domain=domain, created_at=moment, updated_at=moment)

    xenon, xenon_works = account("Xenon Group", "xenon.example"), account("Xenon Works")
    northwind, northwind_typo = account("Northwind Analytics"), account("Northwind Analytic")
    acme, acme_logistics = account("ACME", "acme.com"), account("ACME Logistics", "acme.de")
    scan_run()
    suggested = {frozenset((s.left_id, s.right_id)) for s in Suggestion.objects.filter(kind="account")}
    assert frozenset((northwind.pk, northwind_typo.pk)) in suggested  # a typo
    assert frozenset((acme.pk, acme_logistics.pk)) in suggested  # acme.com / acme.de
    assert frozenset((xenon.pk, xenon_works.pk)) not in suggested  # one word in common, nothing else


def test_a_scan_stores_every_pair_with_its_own_evidence_skips_refused_pairs_and_refreshes_pending_ones():
    from accord.dedup.engine import FIELDS, MatchParameters
    from accord.dedup.services import suggestions_record_scan

    params = MatchParameters.default()
    patterns = np.asarray([[3, 3, 2, -1, -1, -1, -1, 3, 2, 2, 1], [2, 3, 2, -1, -1, -1, -1, 0, 2, 2, 1]], dtype=np.int8)
    assert patterns.shape[1] == len(FIELDS)
    # 253 pairs: several full multi-row statements and a remainder.
    left = np.arange(1, 254, dtype=np.int64)
    right = left + 1000
    pattern_of = (left % 2).astype(np.int64)
    moment = now()
    refused = Decision.objects.create(left_id=5, right_id=1005, verdict=Decision.Verdict.DISTINCT, levels=[], decided_at=moment)
    pending = Suggestion.objects.create(
        left_id=7, right_id=1007, probability=0.01, levels=[0] * len(FIELDS), source="capture", created_at=moment, updated_at=moment
    )

    created = suggestions_record_scan(left=left, right=right, patterns=patterns, pattern_of=pattern_of, params=params)

    assert created == 253 - 2  # the refused pair is skipped, the pending one refreshed
    stored = {(s.left_id, s.right_id): s for s in Suggestion.objects.filter(kind="contact")}
    assert len(stored) == 252 and (refused.left_id, refused.right_id) not in stored
    probabilities = params.probabilities(patterns)
    for a, b, row in zip(left.tolist(), right.tolist(), pattern_of.tolist(), strict=True):
        if a == 5:
            continue
        suggestion = stored[(a, b)]
        assert suggestion.levels == patterns[row].tolist()
        assert suggestion.probability == pytest.approx(float(probabilities[row]))
        assert suggestion.status == SuggestionStatus.PENDING and suggestion.source == ("capture" if a == 7 else "scan")
    assert stored[(7, 1007)].pk == pending.pk
