"""Comparators, blocking keys, stop-values and the Fellegi–Sunter model, without the database."""

from __future__ import annotations

from datetime import date

import numpy as np

from accord.dedup import engine
from accord.dedup.engine import FIELD_NAMES, MatchParameters, candidate_pairs, columns, compare
from accord.dedup.keys import Person, blocking_keys, clean_phone, company_core, soundex


def person(**values) -> Person:
    return Person.build(**values)


def levels_of(a: Person, b: Person) -> dict[str, int]:
    row = compare(columns([a, b]), np.array([0]), np.array([1]))[0]
    return dict(zip(FIELD_NAMES, row.tolist(), strict=True))


def test_names_are_compared_with_jaro_winkler_into_levels():
    levels = levels_of(person(first_name="Jon", last_name="Smyth"), person(first_name="Jonathan", last_name="Smith"))
    assert levels["first"] == 1  # similar
    assert levels["last"] == 1
    same = levels_of(person(first_name="Ann", last_name="Lee"), person(first_name="ANN", last_name="lee"))
    assert same["first"] == same["last"] == 3
    other = levels_of(person(first_name="Ann"), person(first_name="Zoltan"))
    assert other["first"] == 0


def test_company_names_agree_once_legal_suffixes_are_removed():
    assert company_core("ACME Corporation, Inc.") == company_core("Acme Corp.") == "acme"
    levels = levels_of(person(company="ACME Corporation"), person(company="Acme Corp."))
    assert levels["company"] == 2
    similar = levels_of(person(company="Acme Rocket Works Ltd"), person(company="Acme Rocket Works International"))
    assert similar["company"] == 1


def test_addresses_phones_and_birth_dates_have_near_levels():
    levels = levels_of(
        person(street="12 Main Street", postcode="2000", birth_date="1980-03-04", phone="+14155552671"),
        person(street="12 Main Stret", postcode="2001", birth_date="1980-04-03", phone="+14155552672"),
    )
    assert levels["street"] in (1, 2)
    assert levels["postcode"] == 1
    assert levels["birth"] == 1  # day and month swapped
    assert levels["phone"] == 1


def test_a_missing_value_is_no_evidence_either_way():
    levels = levels_of(person(first_name="Ann", last_name="Lee"), person(first_name="Ann"))
    assert levels["last"] == -1
    params = MatchParameters.default()
    row = compare(columns([person(first_name="Ann"), person(first_name="Ann", city="Paris")]), np.array([0]), np.array([1]))
    explanation = params.explain(row[0])
    city = next(item for item in explanation if item["field"] == "city")
    assert city["level"] == "missing" and city["weight"] == 0.0


def test_stop_values_never_count_as_evidence():
    junk = person(first_name="n/a", last_name="Test", email="test@test.com", phone="000-000", postcode="0000", external_id="N/A")
    assert (junk.first, junk.last, junk.email, junk.phone, junk.postcode, junk.external_id) == ("", "", "", "", "", "")
    assert clean_phone("123-4567") == "" and clean_phone("1111111") == ""
    other = person(first_name="n/a", email="test@test.com", phone="000-000")
    assert all(level == -1 for level in levels_of(junk, other).values())
    assert blocking_keys(junk) == []


def test_blocking_keys_meet_spelling_variants_and_swapped_names():
    assert soundex("smith") == soundex("smyth") == "S530"
    a = set(blocking_keys(person(first_name="John", last_name="Smith", birth_date="1980-01-02")))
    b = set(blocking_keys(person(first_name="Jon", last_name="Smyth")))
    swapped = set(blocking_keys(person(first_name="Smith", last_name="John")))
    assert a & b
    assert a & swapped
    assert "b:19800102" in a


def test_candidate_pairs_come_from_shared_keys_and_skip_oversized_blocks():
    ia, ib = candidate_pairs([["k1"], ["k1", "k2"], ["k2"], ["k3"]])
    assert sorted(zip(ia.tolist(), ib.tolist())) == [(0, 1), (1, 2)]
    ia, ib = candidate_pairs([["big"]] * 10, max_block=5)
    assert len(ia) == 0


def _population(rng: np.random.Generator, size: int) -> list[Person]:
    firsts = ["ann", "bob", "carla", "dmitri", "eve", "farid", "gina", "hugo", "ines", "jack", "kim", "liam"]
    lasts = ["smith", "jones", "nguyen", "garcia", "muller", "rossi", "kowalski", "tanaka", "silva", "brown", "olsen"]
    people = []
    for i in range(size):
        people.append(
            person(
                first_name=firsts[rng.integers(len(firsts))],
                last_name=lasts[rng.integers(len(lasts))],
                birth_date=f"19{rng.integers(40, 99)}{rng.integers(1, 13):02d}{rng.integers(1, 28):02d}",
                postcode=str(rng.integers(1000, 9999)),
                city=["paris", "lyon", "nice", "lille"][rng.integers(4)],
            )
        )
    return people


def test_em_learns_that_birth_date_agreement_is_strong_evidence_from_the_data():
    rng = np.random.default_rng(7)
    base = _population(rng, 400)
    twins = []
    for original in base[:120]:
        twin = Person(**{name: getattr(original, name) for name in Person.__slots__})
        twin.first = twin.first[:-1] + "x" if len(twin.first) > 3 else twin.first
        twins.append(twin)
    result = engine.scan(base + twins, random_sample=20_000)
    params = result.params
    birth = FIELD_NAMES.index("birth")
    table = params.weight_table()
    assert table[birth, 2] > 5  # exact birth date: several bits of evidence
    assert table[birth, 0] < 0  # a different birth date counts against
    assert 0 < params.prior < 1
    # Every planted twin is found with high probability; unrelated pairs are not.
    found = {(int(a), int(b)) for a, b, p in zip(result.ia, result.ib, result.probabilities) if p >= 0.5}
    planted = {(i, 400 + i) for i in range(120)}
    assert len(planted & found) >= 115
    assert len(found - planted) <= 10


def test_decisions_move_the_model():
    params = MatchParameters.default()
    pattern = np.asarray([[3, 3, -1, -1, -1, -1, 0, -1, -1, -1, -1]], dtype=np.int8)
    before = float(params.probabilities(pattern)[0])
    distinct = np.repeat(pattern, 5, axis=0)
    apart = engine.learn_from_decisions(params, merged=np.zeros((0, len(FIELD_NAMES)), dtype=np.int8), distinct=distinct)
    assert float(apart.probabilities(pattern)[0]) < before
    together = engine.learn_from_decisions(params, merged=distinct, distinct=np.zeros((0, len(FIELD_NAMES)), dtype=np.int8))
    assert float(together.probabilities(pattern)[0]) > before


def test_a_mailbox_that_is_only_the_persons_names_is_no_evidence_beyond_the_names():
    work = person(first_name="Ann", last_name="Smith", email="ann.smith.5@company5.example")
    other = person(first_name="Ann", last_name="Smith", email="ann.smith.17@company17.example")
    levels = levels_of(work, other)
    assert levels["first"] == levels["last"] == 3
    assert levels["email"] == 0  # different addresses; the shared "annsmith" only repeats the names
    for box in ("asmith", "smithann", "smith.a", "annsmith"):
        assert levels_of(person(first_name="Ann", last_name="Smith", email=f"{box}@a.example"), person(first_name="Ann", last_name="Smith", email=f"{box}.2@b.example"))["email"] == 0


def test_a_mailbox_name_that_is_not_spelled_from_the_names_still_counts():
    # A nickname mailbox the names do not explain, or a side without names: real evidence.
    nickname = levels_of(
        person(first_name="Jon", last_name="Smyth", email="skipper77@acme.example"),
        person(first_name="Jonathan", last_name="Smith", email="skipper@gmail.com"),
    )
    assert nickname["email"] == 1
    unnamed = levels_of(person(first_name="Ann", last_name="Smith", email="ann.smith@a.example"), person(email="annsmith@b.example"))
    assert unnamed["email"] == 1
    explanation = MatchParameters.default().explain(
        compare(columns([person(email="skipper77@a.example"), person(email="skipper@b.example")]), np.array([0]), np.array([1]))[0]
    )
    assert next(row for row in explanation if row["field"] == "email")["level"] == "same mailbox name"


def test_two_people_with_a_common_name_at_different_companies_are_not_one_person_by_the_model():
    a = person(first_name="Ann", last_name="Smith", email="ann.smith.5@company5.example", phone="+14152000005", company="Company 5", domain="company5.example", city="New York")
    b = person(first_name="Ann", last_name="Smith", email="ann.smith.17@company17.example", phone="+14152000017", company="Company 17", domain="company17.example", city="Austin")
    cols = columns([a, b])
    row = compare(cols, np.array([0]), np.array([1]))
    assert float(MatchParameters.default().probabilities(row)[0]) < 0.5
    assert engine.update_needs_review(cols, np.array([0]), np.array([1]), row).tolist() == [True]


def _needs_review(a: Person, b: Person) -> bool:
    cols = columns([a, b])
    pair = np.array([0]), np.array([1])
    return bool(engine.update_needs_review(cols, *pair, compare(cols, *pair))[0])


def test_only_work_addresses_that_point_at_two_people_hold_an_update_back_for_review():
    ann = dict(first_name="Ann", last_name="Smith", company="Company 5", domain="company5.example")
    # Another mailbox at the same employer: a namesake (or an alias) unless the birth date agrees.
    assert _needs_review(person(email="ann.smith.5@company5.example", **ann), person(email="ann.smith.20005@company5.example", **ann))
    assert not _needs_review(
        person(email="ann.smith.5@company5.example", birth_date="1980-03-04", **ann),
        person(email="asmith@company5.example", birth_date="1980-03-04", **ann),
    )
    # A free-mail address on one side, or one address missing, is not a conflict.
    assert not _needs_review(person(email="ann.smith.5@company5.example", **ann), person(email="ann.smith@gmail.com", first_name="Ann", last_name="Smith"))
    assert not _needs_review(person(email="ann.smith.5@company5.example", **ann), person(**ann))
    # A job change stays a question even when the birth date agrees.
    assert _needs_review(
        person(email="ann.smith@company5.example", birth_date="1980-03-04", **ann),
        person(email="ann.smith@company17.example", birth_date="1980-03-04", first_name="Ann", last_name="Smith", company="Company 17"),
    )


def test_cleaning_many_stored_rows_column_by_column_gives_the_same_values_as_a_person_each():
    from datetime import date

    from accord.dedup.keys import cleaned_columns

    stored = [
        dict(first_name="Jöhn", last_name="O'Neil", email=" John.ONeil@Acme.com ", phone="+1 (415) 555-2671", external_id="AB-12",
             street="12 Main St.", city="Paris", postcode="750 01", state="IDF", birth_date=date(1980, 3, 4), company="ACME Corp.", domain=" Acme.COM "),
        dict(first_name="n/a", last_name=None, email="test@test.com", phone="000-000", external_id="N/A", street="", city=None,
             postcode="0000", state="", birth_date="1970-01-01", company=None, domain=None),
        dict(first_name="Ann", last_name="Lee", email="", phone="", external_id="", street="", city="", postcode="", state="",
             birth_date="1991-12-31", company="", domain=""),
    ]
    by_column = cleaned_columns({name: [row[name] for row in stored] for name in stored[0]})
    one_by_one = [Person.build(**{k: (v or "") if k != "birth_date" else v for k, v in row.items()}) for row in stored]
    for name in Person.__slots__:
        assert by_column[name] == [getattr(p, name) for p in one_by_one], name
    assert by_column["first"] == ["john", "", "ann"] and by_column["birth"] == ["19800304", "", "19911231"]


def test_folding_takes_the_short_way_only_when_it_gives_the_same_answer():
    from accord.dedup.keys import clean_birth_date, fold

    assert fold("Jonathan") == "jonathan" and fold("AB123") == "ab123"
    assert fold("12  Main St., Apt 3") == "12 main st apt 3"
    assert fold("O'Neil") == "oneil"
    assert fold("Émile-Zola Straße") == "emile zola strae"
    assert clean_birth_date("1980-03-04") == "19800304"
    assert clean_birth_date("04/03/1980") == "04031980"
    assert clean_birth_date("1970-01-01") == ""  # a placeholder date


def test_names_and_a_town_alone_are_not_telling_but_any_personal_field_is():
    names_and_city = np.asarray([[3, 3, -1, 0, 0, -1, 0, -1, 2, -1, -1]], dtype=np.int8)
    assert not engine.agrees_beyond_names_and_place(names_and_city)[0]
    for field_name in ("birth", "email", "phone", "external_id", "company", "street", "postcode"):
        row = names_and_city.copy()
        row[0, FIELD_NAMES.index(field_name)] = 1
        assert engine.agrees_beyond_names_and_place(row)[0], field_name


def _contradict(a: Person, b: Person) -> bool:
    cols = columns([a, b])
    ia, ib = np.array([0]), np.array([1])
    return bool(engine.names_contradict(cols, ia, ib, compare(cols, ia, ib))[0])


def test_colleagues_whose_names_say_two_people_are_not_a_duplicate_pair():
    # One switchboard number, one company: two people, whatever the number says.
    assert _contradict(
        person(first_name="Marco", last_name="Johansson", phone="+14155558308", company="Granite Cloud", city="Austin"),
        person(first_name="Maya", last_name="Shah", phone="+14155558308", company="Granite Cloud", city="Austin"),
    )
    # A shared given name at one company, nothing only one person has in common.
    assert _contradict(
        person(first_name="Yara", last_name="Nagy", email="yara.nagy@summit.ca", company="Summit Partners", city="Toronto"),
        person(first_name="Yara", last_name="Rossi", email="yara.rossi@summit.ca", company="Summit Partners", city="Toronto"),
    )


def test_a_new_surname_with_personal_evidence_or_swapped_names_is_still_a_pair():
    # Married name, same birth date and street: a reviewer should see it.
    assert not _contradict(
        person(first_name="Ann", last_name="Lee", birth_date=date(1980, 5, 1), street="12 Elm Street"),
        person(first_name="Ann", last_name="Park", birth_date=date(1980, 5, 1), street="12 Elm Street"),
    )
    assert not _contradict(person(first_name="John", last_name="Smith"), person(first_name="Smith", last_name="John"))
    assert not _contradict(person(first_name="Jon", last_name="Smyth"), person(first_name="Jonathan", last_name="Smith"))


def test_names_typed_wrongly_do_not_hide_a_person_who_is_otherwise_identified():
    # Swapped and mistyped on top: each name is still close to the other's other name.
    assert not _contradict(person(first_name="Smiht", last_name="Jon"), person(first_name="John", last_name="Smith"))
    # The same external id, or the same birth date at the same address, outweighs the names.
    assert not _contradict(person(first_name="Ann", last_name="Lee", external_id="AB-771"), person(first_name="Bo", last_name="Chan", external_id="AB-771"))
    assert not _contradict(
        person(first_name="Ann", last_name="Lee", birth_date=date(1980, 5, 1), postcode="2000"),
        person(first_name="Bo", last_name="Chan", birth_date=date(1980, 5, 1), postcode="2000"),
    )
    # A birthday alone, or a home alone, shared by people of other names is a coincidence or a family.
    assert _contradict(person(first_name="Ann", last_name="Lee", birth_date=date(1980, 5, 1)), person(first_name="Bo", last_name="Chan", birth_date=date(1980, 5, 1)))
    assert _contradict(person(first_name="Ann", last_name="Lee", street="12 Elm Street"), person(first_name="Bo", last_name="Chan", street="12 Elm Street"))


def test_a_person_from_capture_values_is_the_person_build_makes_of_them():
    import random

    samples = ["", None, " ", "n/a", "Ann", "  ann  ", "Müller", "TEST", "x", "0000000", "+14155552671", "12 Wattle St",
               "1980-03-04", "ACME Inc", "-", ".", "1111111", "00000"]
    names = ["first_name", "last_name", "phone", "external_id", "street", "city", "postcode", "state", "birth_date"]
    rng = random.Random(1)
    for _ in range(3000):
        values = {
            name: rng.choice([*samples, date(1980, 3, 4), date(1970, 1, 1)] if name == "birth_date" else samples)
            for name in names
            if rng.random() < 0.7  # absent fields are empty
        }
        email = rng.choice([*samples, "a@b.com", "test@test.com", " Ann@X.com "])
        company, domain = rng.choice(samples), rng.choice([*samples, "acme.com"])
        built = Person.build(**values, email=email, company=company, domain=domain)
        assert Person.from_contact_values(values, email=email, company=company, domain=domain) == built
