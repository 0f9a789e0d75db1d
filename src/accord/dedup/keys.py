"""Normalized values, stop-values and blocking keys for matching people and companies.

Everything here is pure (no database): the whole-base scan, capture and the benchmark all
turn a record into the same ``Person`` and the same keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import date

# Values people type when a form insists on something. They are never evidence that two
# records are one person: they count as "missing".
STOP_TEXT = frozenset(
    {
        "", "n/a", "na", "n.a.", "none", "null", "nil", "unknown", "test", "tbd", "-", "--", "x", "xx", "xxx",
        "asdf", "abc", "no", "nobody", "noname", "not applicable", "not provided", "anonymous", "first", "last",
        "firstname", "lastname", "name", "company", "private", ".",
    }
)
STOP_EMAILS = frozenset(
    {
        "test@test.com", "test@example.com", "a@a.com", "a@b.com", "abc@abc.com", "none@none.com",
        "no@no.com", "email@email.com", "noemail@noemail.com", "noreply@noreply.com", "info@info.com",
        "asdf@asdf.com", "x@x.com", "user@example.com", "foo@bar.com", "test@gmail.com",
    }
)
STOP_EMAIL_LOCALS = frozenset({"test", "noreply", "no-reply", "none", "noemail", "donotreply", "do-not-reply", "nobody"})
STOP_BIRTH_DATES = frozenset({"19000101", "19700101", "19010101"})

_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "ltd", "limited", "gmbh", "ag",
        "sa", "sas", "sarl", "plc", "bv", "nv", "oy", "ab", "as", "pty", "srl", "spa", "kg", "lp", "llp", "se",
        "group", "holding", "holdings", "the", "and", "kk", "pte", "pvt",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
# What _NON_WORD does to plain ASCII text, as a translation table (apostrophes dropped, line
# breaks kept as separators).
_ASCII_PUNCTUATION_TO_SPACE = str.maketrans(
    {chr(code): None if chr(code) == "'" else " " for code in range(128) if chr(code) not in "abcdefghijklmnopqrstuvwxyz0123456789\n"}
)
_NON_DIGIT = re.compile(r"\D+")


def _fold(raw: str | None) -> str:
    """Lower-case, accents removed, punctuation to spaces, spaces collapsed."""
    if not raw:
        return ""
    if isinstance(raw, str) and raw.isascii():
        if raw.isalnum():
            return raw.lower()  # nothing to fold but the case (most names, ids, postcodes)
        text = raw.lower()  # no accents to take off
    else:
        text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode().lower()
    return " ".join(_NON_WORD.sub(" ", text.replace("'", "")).split())


# Remembered: names, cities and company names repeat across people. Values that are nearly
# unique (streets, ids) go through _fold and _clean_text directly, as a cache would only
# churn on them.
fold = lru_cache(maxsize=1 << 18)(_fold)


def _clean_text(raw: str | None) -> str:
    value = _fold(raw)
    if value in STOP_TEXT or value.replace(" ", "") in STOP_TEXT or (raw or "").strip().lower() in STOP_TEXT:
        return ""
    return value


# The cleaners of values that repeat across people (names, cities, states, postcodes, company
# names) remember their answers: capture cleans every candidate of every lead, mostly the
# same few thousand values again.
clean_text = lru_cache(maxsize=1 << 16)(_clean_text)


def fold_many(values: Sequence[str]) -> list[str]:
    """``_fold`` of every value, with the same results (tests/dedup/test_keys.py).

    The whole-base scan folds a nearly unique street and id per contact: the plain ASCII
    values are folded together by two regular-expression passes over their join instead of
    one call each (the rest, with accents to take off, one by one).
    """
    if all(isinstance(value, str) for value in values):
        joined = "\n".join(values)
        if joined.isascii() and joined.count("\n") == len(values) - 1:
            return _fold_lines(joined) if values else []
    plain = [isinstance(value, str) and value.isascii() and "\n" not in value for value in values]
    batch = [value for value, ok in zip(values, plain, strict=True) if ok]
    folded = iter(_fold_lines("\n".join(batch)) if batch else [])
    return [next(folded) if ok else _fold(value) for value, ok in zip(values, plain, strict=True)]


def _fold_lines(text: str) -> list[str]:
    """``_fold`` of each line of plain ASCII text: punctuation to spaces by one table look-up
    per character (a regular expression spent twice as long on the commas and spaces of a
    hundred thousand addresses), then each line's spaces collapsed."""
    return [" ".join(line.split()) for line in text.lower().translate(_ASCII_PUNCTUATION_TO_SPACE).split("\n")]


# No stop-value is longer than this: a longer value can only be one once its spaces are gone.
_LONGEST_STOP_TEXT = max(map(len, STOP_TEXT))


def clean_text_many(values: Sequence[str]) -> list[str]:
    """``_clean_text`` of every value (the stop-values looked up only for values short enough
    to be one)."""
    out = fold_many(values)
    for at, (raw, value) in enumerate(zip(values, out, strict=True)):
        raw = raw if isinstance(raw, str) else ""
        if len(value) - value.count(" ") > _LONGEST_STOP_TEXT and len(raw.strip()) > _LONGEST_STOP_TEXT:
            continue
        if value in STOP_TEXT or value.replace(" ", "") in STOP_TEXT or raw.strip().lower() in STOP_TEXT:
            out[at] = ""
    return out


def clean_identifier_many(values: Sequence[str]) -> list[str]:
    """``clean_identifier`` of every value."""
    out = []
    for folded in fold_many(values):
        value = folded.replace(" ", "")
        # One character repeated (0000, xxxxx): counted rather than put in a set, same answer.
        out.append("" if not value or value in STOP_TEXT or value.count(value[0]) == len(value) else value)
    return out


def clean_email(raw: str | None) -> str:
    value = (raw or "").strip().lower()
    if not value or value in STOP_EMAILS or "@" not in value:
        return ""
    if value.partition("@")[0] in STOP_EMAIL_LOCALS:
        return ""
    return value


def clean_phone(raw: str | None) -> str:
    """Digits only; '' for junk such as 000-000, 1111111 or 1234567."""
    raw = raw or ""
    if raw[1:].isdecimal() and (raw[:1] == "+" or raw[:1].isdecimal()):
        digits = raw.lstrip("+")  # stored E.164 (+14155552671): nothing else to take out
    else:
        digits = _NON_DIGIT.sub("", raw)
    if len(digits) < 6:
        return ""
    tail = digits[-7:]
    if len(set(tail)) <= 1 or tail in "01234567890123456789" or tail in "98765432109876543210":
        return ""
    return digits


@lru_cache(maxsize=1 << 16)
def clean_birth_date(raw: date | str | None) -> str:
    if not raw:
        return ""
    # Formatted by hand: strftime is several times slower, and this runs for every candidate.
    if isinstance(raw, date):
        value = f"{raw.year:04d}{raw.month:02d}{raw.day:02d}"
    else:
        value = str(raw).replace("-", "")  # the stored form, 1980-03-04, without a regex
        if not value.isdecimal():
            value = _NON_DIGIT.sub("", value)
    if len(value) != 8 or value in STOP_BIRTH_DATES:
        return ""
    return value


@lru_cache(maxsize=1 << 16)
def clean_postcode(raw: str | None) -> str:
    value = fold(raw).replace(" ", "")
    if not value or value in STOP_TEXT or len(set(value)) == 1:
        return ""
    return value


def clean_identifier(raw: str | None) -> str:
    value = _fold(raw).replace(" ", "")
    if not value or value in STOP_TEXT or len(set(value)) == 1:
        return ""
    return value


@lru_cache(maxsize=1 << 16)
def company_core(raw: str | None) -> str:
    """'ACME Corporation, Inc.' → 'acme': legal suffixes and filler words removed."""
    words = [w for w in fold(raw).split() if w not in _LEGAL_SUFFIXES]
    value = " ".join(words)
    return "" if value in STOP_TEXT else value


_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


@lru_cache(maxsize=1 << 18)
def soundex(word: str) -> str:
    """American Soundex of a folded word ('' for nothing)."""
    word = "".join(ch for ch in word if "a" <= ch <= "z")
    if not word:
        return ""
    codes = _SOUNDEX_CODES
    out = word[0].upper()
    last = codes.get(word[0], "")
    for ch in word[1:]:
        code = codes.get(ch, "")
        if code and code != last:
            out += code
            if len(out) == 4:
                break
        if ch not in "hw":
            last = code
    return out.ljust(4, "0")


def clean_domain(raw: str | None) -> str:
    return (raw or "").strip().lower()


# Every field of a Person: the stored value (by Person.build's argument) it is cleaned from,
# and how. Person.build spells the same thing out for one person at a time.
PERSON_FIELDS: tuple[tuple[str, str, Callable[[object], str]], ...] = (
    ("first", "first_name", clean_text),
    ("last", "last_name", clean_text),
    ("email", "email", clean_email),
    ("phone", "phone", clean_phone),
    ("external_id", "external_id", clean_identifier),
    ("street", "street", _clean_text),  # nearly unique: not worth remembering
    ("city", "city", clean_text),
    ("postcode", "postcode", clean_postcode),
    ("state", "state", clean_text),
    ("birth", "birth_date", clean_birth_date),
    ("company", "company", company_core),
    ("domain", "domain", clean_domain),
)
_CLEANERS = {name: clean for name, _, clean in PERSON_FIELDS}


def clean_column(name: str, values: Sequence) -> list[str]:
    """Field ``name`` (of a Person) cleaned for many stored values at once; the nearly unique
    text fields in one pass (``fold_many``)."""
    if name == "street":
        return clean_text_many(values)
    if name == "external_id":
        return clean_identifier_many(values)
    # Each distinct value comes once: the cleaner's memory of earlier answers (for capture,
    # which meets the same names again and again) would only fill up with the whole base.
    clean = getattr(_CLEANERS[name], "__wrapped__", _CLEANERS[name])
    return [clean(value) for value in values]


def cleaned_columns(raw: dict[str, Sequence]) -> dict[str, list[str]]:
    """Many people's stored values, keyed by Person.build's arguments, cleaned field by field:
    the same values as building a Person for each, without building them (capture cleans
    over a hundred candidates per lead)."""
    return {name: [clean(value) for value in raw[source]] for name, source, clean in PERSON_FIELDS}


@dataclass(slots=True)
class Person:
    """One contact (or lead) as the matcher sees it: every value cleaned, '' when missing."""

    first: str = ""
    last: str = ""
    email: str = ""
    phone: str = ""
    external_id: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    state: str = ""
    birth: str = ""
    company: str = ""
    domain: str = ""

    @classmethod
    def build(
        cls,
        *,
        first_name="",
        last_name="",
        email="",
        phone="",
        external_id="",
        street="",
        city="",
        postcode="",
        state="",
        birth_date=None,
        company="",
        domain="",
    ) -> "Person":
        values = {
            "first_name": first_name, "last_name": last_name, "email": email, "phone": phone, "external_id": external_id,
            "street": street, "city": city, "postcode": postcode, "state": state, "birth_date": birth_date,
            "company": company, "domain": domain,
        }
        return cls(**_cleaned_fields(values.get))

    @classmethod
    def from_contact_values(cls, values: dict, *, email: str, company: str, domain: str) -> "Person":
        """A person from a contact's field values as capture holds them (absent fields empty):
        the same as ``build``."""
        given = {"email": email, "company": company, "domain": domain}
        return cls(**_cleaned_fields(lambda source: given[source] if source in given else values.get(source)))


def _cleaned_fields(value_of: Callable[[str], object]) -> dict[str, str]:
    """Every Person field, cleaned from ``value_of(stored name)``. An empty value is empty when
    cleaned, so only the values present go through their cleaners (capture builds a Person per
    lead, and a lead carries few of the twelve)."""
    out = {}
    for name, source, clean in PERSON_FIELDS:
        value = value_of(source)
        out[name] = clean(value) if value else ""
    return out


# Words of a street line that name its kind or a unit, not the street itself.
_STREET_WORDS = frozenset(
    {
        "street", "st", "road", "rd", "avenue", "ave", "av", "place", "pl", "lane", "ln", "drive", "dr", "court", "ct",
        "crescent", "cres", "boulevard", "blvd", "way", "close", "terrace", "parade", "highway", "hwy", "square",
        "circuit", "grove", "unit", "apartment", "apt", "flat", "suite", "level", "floor", "po", "box", "the", "of",
        "north", "south", "east", "west", "rue", "via", "calle", "strasse", "str",
    }
)


def street_name(street: str) -> str:
    """The first word of a cleaned street line that names the street ('12 wattle street' → wattle)."""
    for word in street.split():
        if word.isalpha() and len(word) > 1 and word not in _STREET_WORDS:
            return word
    return ""


def house_number(street: str) -> str:
    """The first number of a cleaned street line ('flat 3 12 wattle street' → 3), at most 10 digits."""
    for word in street.split():
        if word.isdecimal():
            return word[:10]
    return ""


def blocking_keys(person: Person) -> list[str]:
    """Keys under which likely duplicates of this person meet; short strings, indexed.

    Names are keyed by the sound of both, in either order, so that a swapped first and last
    name still meets its twin; a typo that changes a name's sound is caught by the other keys
    (birth date, postcode with house number, street by sound in its town, phone, email,
    domain, external id). Each part is cut to a fixed length, so a key is at most 64
    characters and two keys are equal exactly when their parts are (the whole-base scan
    forms the same blocks from integer codes of the parts: ``accord.dedup.blocking``).
    """
    keys: list[str] = []
    first, last = person.first, person.last
    if last and first:
        # Both names by sound, in either order: "Jon Smyth" meets "John Smith" and "Smith John".
        keys.append("n:" + "".join(sorted((soundex(first), soundex(last)))))
    elif last or first:
        keys.append(f"o:{soundex(last or first)}")
    if person.birth:
        keys.append(f"b:{person.birth}")
    number = house_number(person.street)
    if person.postcode and number:
        keys.append(f"p:{person.postcode[:20]}:{number}")
    initial = (first or "?")[0]
    if person.domain:
        keys.append(f"d:{person.domain[:50]}:{initial}")
    if person.company:
        keys.append(f"c:{person.company[:40]}:{initial}")
    name = street_name(person.street)
    if name and person.city:
        keys.append(f"s:{soundex(name)}:{person.city[:4]}")
    if person.phone:
        keys.append(f"t:{person.phone[-9:]}")
    if person.email:
        keys.append(f"e:{person.email[:60]}")
    if person.external_id:
        keys.append(f"x:{person.external_id[:60]}")
    return keys
