"""The whole-base scan sees what capture sees: the same cleaned values and the same blocks."""

from datetime import date, timedelta

import numpy as np
import pytest

from accord.core.clock import now
from accord.crm.models import Account, Contact
from accord.dedup.blocking import candidate_pairs_of, key_families, key_rows
from accord.dedup.engine import candidate_pairs, columns
from accord.dedup.keys import Person, blocking_keys, house_number, street_name
from accord.dedup.models import IndexState, MatchKey
from accord.dedup.queries import contact_columns, person_from_contact
from accord.dedup.services import match_index_build


def _people(size: int, seed: int = 11) -> list[Person]:
    rng = np.random.default_rng(seed)

    def pick(values):
        return values[rng.integers(len(values))]

    firsts = ["ann", "anne", "bob", "robert", "carla", "x", "123", "", "smith", "jon", "john"]
    lasts = ["smith", "smyth", "jones", "nguyen", "", "456", "ann", "o brien", "obrien"]
    streets = ["12 wattle street", "12 wattel street", "flat 3 12 wattle street", "po box 77", "wattle street", "", "9 the avenue", "12"]

    def cut_at(length: int, tail: str = "") -> list[str]:
        # Pairs that differ just inside and just past the length a key part is cut to.
        return ["a" * (length - 1) + "b" + tail, "a" * (length - 1) + "c" + tail, "a" * length + "b" + tail, "a" * length + "c" + tail]

    people = []
    for _ in range(size):
        people.append(
            Person(
                first=pick(firsts),
                last=pick(lasts),
                birth=pick(["19800102", "19800201", ""]),
                postcode=pick(["2000", "2001", "", *cut_at(20)]),
                street=pick(streets),
                city=pick(["sydney", "sydenham", "perth", ""]),
                domain=pick(["acme.example", *cut_at(50, ".example"), ""]),
                company=pick(["acme", *cut_at(40), ""]),
                phone=pick(["61298765432", "0298765432", "0198765432", "", "4412345678"]),
                email=pick(["ann@acme.example", *cut_at(60, "@x.example"), ""]),
                external_id=pick(["abc123", "", *cut_at(60)]),
            )
        )
    return people


def _string_families(people: list[Person]) -> dict[str, list[list[str]]]:
    keys = [blocking_keys(person) for person in people]
    prefixes = {key.split(":", 1)[0] for row in keys for key in row}
    return {prefix: [[key for key in row if key.startswith(prefix + ":")] for row in keys] for prefix in prefixes}


def _pairs(ia, ib) -> set[tuple[int, int]]:
    return set(zip(ia.tolist(), ib.tolist(), strict=True))


def test_every_key_family_forms_the_same_blocks_as_the_string_keys():
    people = _people(600)
    families = key_families(columns(people))
    strings = _string_families(people)
    assert set(strings) <= set(families)
    for prefix, family in families.items():
        expected = _pairs(*candidate_pairs(strings.get(prefix, [[]] * len(people)), max_block=10_000))
        assert _pairs(*candidate_pairs_of({prefix: family}, max_block=10_000)) == expected, prefix


def test_the_index_rows_spell_every_key_as_capture_does():
    people = _people(700, seed=3)
    ids = np.arange(1000, 1000 + len(people), dtype=np.int64)
    rows = [row for family_rows in key_rows(key_families(columns(people)), ids) for row in family_rows]
    keys = [key for _, key in rows]
    got: dict[int, set[str]] = {}
    for contact_id, key in rows:
        got.setdefault(contact_id, set()).add(key)
    expected = {1000 + i: set(blocking_keys(person)) for i, person in enumerate(people) if blocking_keys(person)}
    assert got == expected
    assert len(keys) == sum(len(blocking_keys(person)) for person in people)  # no key twice


def test_all_families_together_give_the_string_keys_candidate_pairs_with_the_same_block_limit():
    people = _people(900, seed=5)
    expected = _pairs(*candidate_pairs([blocking_keys(person) for person in people], max_block=40))
    got = _pairs(*candidate_pairs_of(key_families(columns(people)), max_block=40))
    assert got == expected
    assert got  # the data has real blocks under the limit


def test_a_block_larger_than_the_limit_gives_no_pairs():
    people = [Person(first="ann", last="smith")] * 5 + [Person(first="bob", last="jones")] * 2
    ia, ib = candidate_pairs_of(key_families(columns(people)), max_block=4)
    assert _pairs(ia, ib) == {(5, 6)}


def test_street_keys_use_the_street_name_and_house_number_not_its_kind():
    assert street_name("flat 3 12 wattle street") == "wattle"
    assert house_number("flat 3 12 wattle street") == "3"
    assert street_name("12 the avenue") == "" and house_number("the avenue") == ""
    a = set(blocking_keys(Person(street="12 wattle street", city="sydney", postcode="2000")))
    b = set(blocking_keys(Person(street="12 wattle road", city="sydney", postcode="2000")))
    c = set(blocking_keys(Person(street="40 acacia street", city="sydney", postcode="2000")))
    assert a & b == {"s:W340:sydn", "p:2000:12"}
    assert not a & c  # the same kind of street in the same town is no reason to compare


@pytest.mark.django_db
def test_the_scan_reads_every_contact_as_capture_sees_it():
    moment = now()
    acme = Account.objects.create(name="ACME Corporation, Inc.", domain="acme.example", created_at=moment, updated_at=moment)
    bare = Account.objects.create(name="", domain="", created_at=moment, updated_at=moment)
    stored = [
        Contact(first_name="Zoë", last_name="O'Brien", email="Zoe.OBrien@acme.example", phone="+61298765432", street="Flat 3, 12 Wattle St.",
                city="Sydney", postcode="2000", state="NSW", birth_date=date(1980, 3, 4), external_id="AB-123", account=acme),
        Contact(first_name="n/a", last_name="Test", email="test@test.com", phone="000-000", postcode="0000", external_id="N/A", account=bare),
        Contact(first_name="Jon", last_name="Smyth", street="12 wattle street", city="sydney", birth_date=None),
        Contact(first_name="Zoë", last_name="O'Brien", city="Sydney", account=acme),
    ]
    for contact in stored:
        contact.created_at = contact.updated_at = moment
    Contact.objects.bulk_create(stored)
    contacts = list(Contact.objects.select_related("account").order_by("pk"))

    ids, cols = contact_columns(chunk=3)  # several chunks: codes must carry across them
    expected = columns([person_from_contact(contact) for contact in contacts])

    assert ids.tolist() == [contact.pk for contact in contacts]
    assert set(cols) == set(expected)
    for name, column in expected.items():
        assert cols[name].vocab[cols[name].codes].tolist() == column.vocab[column.codes].tolist(), name


@pytest.mark.django_db
def test_rebuilding_the_match_key_index_stores_every_contacts_keys_and_drops_stale_ones():
    moment = now()
    acme = Account.objects.create(name="ACME Corporation", domain="acme.example", created_at=moment, updated_at=moment)
    Contact.objects.bulk_create(
        [
            Contact(first_name="Ann", last_name="Lee", email="ann@acme.example", street="12 Wattle St", city="Sydney", postcode="2000",
                    birth_date=date(1980, 2, 3), account=acme, created_at=moment, updated_at=moment),
            Contact(first_name="Bo", last_name="Li", phone="+61298765432", external_id="X-9", created_at=moment, updated_at=moment),
            Contact(first_name="n/a", created_at=moment, updated_at=moment),  # no keys at all
        ]
    )
    MatchKey.objects.create(contact_id=999_999, key="p:2000:s")  # a key of a contact long gone

    assert match_index_build(full=True) == 3

    indexed: dict[int, set[str]] = {}
    for contact_id, key in MatchKey.objects.values_list("contact_id", "key"):
        indexed.setdefault(contact_id, set()).add(key)
    expected = {
        contact.pk: set(blocking_keys(person_from_contact(contact)))
        for contact in Contact.objects.select_related("account")
        if blocking_keys(person_from_contact(contact))
    }
    assert indexed == expected
    assert {"c:acme:a", "d:acme.example:a", "p:2000:12"} <= indexed[Contact.objects.get(first_name="Ann").pk]
    assert IndexState.objects.get().contacts == 3


@pytest.mark.django_db
def test_an_index_update_rekeys_only_the_contacts_changed_since_the_last_build():
    moment = now()
    ann = Contact.objects.create(first_name="Ann", last_name="Lee", street="12 Wattle St", city="Sydney", postcode="2000",
                                 created_at=moment, updated_at=moment)
    bo = Contact.objects.create(first_name="Bo", last_name="Li", postcode="3000", street="5 Acacia Road", created_at=moment, updated_at=moment)
    match_index_build(full=True)
    MatchKey.objects.create(contact_id=bo.pk, key="z:kept")  # untouched contacts keep what they have
    later = now() + timedelta(seconds=5)
    Contact.objects.filter(pk=ann.pk).update(street="40 Banksia Street", updated_at=later)

    assert match_index_build() == 1

    keys = {pk: set() for pk in (ann.pk, bo.pk)}
    for contact_id, key in MatchKey.objects.values_list("contact_id", "key"):
        keys[contact_id].add(key)
    assert keys[ann.pk] == set(blocking_keys(person_from_contact(Contact.objects.get(pk=ann.pk))))
    assert "p:2000:40" in keys[ann.pk] and "p:2000:12" not in keys[ann.pk]
    assert "z:kept" in keys[bo.pk]
