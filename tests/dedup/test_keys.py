"""The column-wise cleaners the whole-base scan uses give what the per-value ones give."""

from __future__ import annotations

import random

import pytest

from accord.dedup.keys import _clean_text, _fold, clean_identifier, clean_identifier_many, clean_text_many, fold_many

AWKWARD = [
    "12 Main Street", "  12  main   st. ", "O'Brien Road", "flat 3/4, 17-19 high st", "\tTab\tStreet\t", "---",
    "", "N/A", " n / a ", "--", ".", "Not Applicable", "NOT  APPLICABLE", "n.a.", "x", "xx x", "Unit 5 -- ",
    "a" * 300, "  ", "line\nbreak", "Ünter den Linden 5", "Rue de l'Église", "ß-straße", "Test", "te st",
    "1/2/3", "ABC-123-xyz", "  leading", "trailing  ", "!!!", "a'b'c", "MiXeD CaSe 9",
]


@pytest.mark.parametrize("ascii_only", [True, False], ids=["plain ascii", "mixed with accents"])
def test_column_wise_cleaning_equals_cleaning_each_value(ascii_only):
    values = [value for value in AWKWARD if value.isascii() and "\n" not in value] if ascii_only else AWKWARD
    rng = random.Random(5)
    values = values + ["".join(rng.choice("ab c-'./\t") for _ in range(rng.randrange(1, 12))) for _ in range(500)]

    assert fold_many(values) == [_fold(value) for value in values]
    assert clean_text_many(values) == [_clean_text(value) for value in values]
    assert clean_identifier_many(values) == [clean_identifier(value) for value in values]


def test_stop_values_are_cleared_column_wise_whatever_their_spelling():
    assert clean_text_many(["N/A", " n / a ", "Not Applicable", "--", "t e s t", "12 Main St"]) == ["", "", "", "", "", "12 main st"]


def test_no_values_give_no_values():
    assert fold_many([]) == [] and clean_text_many([]) == []


def test_fast_paths_for_stored_phones_and_mailbox_letters_give_what_the_patterns_give():
    import re

    from accord.dedup.engine import _letters
    from accord.dedup.keys import clean_phone

    def digits_then_checks(raw):  # clean_phone as the pattern alone would have it
        digits = re.sub(r"\D+", "", raw)
        if len(digits) < 6:
            return ""
        tail = digits[-7:]
        junk = len(set(tail)) <= 1 or tail in "01234567890123456789" or tail in "98765432109876543210"
        return "" if junk else digits

    rng = random.Random(9)
    samples = ["+14155552671", "14155552671", "+", "++14155552671", "+1 415 555 2671", "+٣٣٣٤٥٦٧٨", "0000000", ""]
    samples += ["".join(rng.choice("+0123456789 -().x") for _ in range(rng.randrange(0, 15))) for _ in range(3000)]
    assert [clean_phone(raw) for raw in samples] == [digits_then_checks(raw) for raw in samples]

    mailboxes = ["ann.smith", "a_n-n+9", "ÉLodie.dupont", "o'brien", "", "ABC", "jürgen"]
    mailboxes += ["".join(rng.choice("abzAZ._-+09 éü") for _ in range(rng.randrange(0, 12))) for _ in range(3000)]
    assert [_letters(box) for box in mailboxes] == [re.sub(r"[^a-z]+", "", box) for box in mailboxes]
