"""Field-by-field comparison and the Fellegi–Sunter model, on whole columns at once.

A pair of people is compared on every field into a *level* (exact, close, differs, or -1 for
"one side is missing", which is never evidence). The model holds, per field and level, the
probability ``m`` of seeing that level for a true duplicate and ``u`` for two different
people; the pair's match weight is the sum of ``log2(m/u)`` and turns into a probability with
the prior. ``u`` is measured on random pairs of the base, ``m`` and the prior are estimated by
expectation–maximisation on the candidate pairs (as probabilistic linkage tools do), and the
team's own decisions then pull both towards what people decided.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from accord.core.normalize import FREE_MAIL_DOMAINS
from accord.dedup.keys import Person


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    levels: tuple[str, ...]  # level 0 first ("differs"), best last


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("first", "First name", ("differs", "similar", "very similar", "same")),
    FieldSpec("last", "Last name", ("differs", "similar", "very similar", "same")),
    FieldSpec("birth", "Birth date", ("differs", "one digit apart", "same")),
    FieldSpec("email", "Email", ("differs", "same mailbox name", "same")),
    FieldSpec("phone", "Phone", ("differs", "nearly the same", "same")),
    FieldSpec("external_id", "External id", ("differs", "one character apart", "same")),
    FieldSpec("company", "Company", ("differs", "similar name", "same company")),
    FieldSpec("street", "Street", ("differs", "similar", "very similar", "same")),
    FieldSpec("city", "City", ("differs", "similar", "same")),
    FieldSpec("postcode", "Postcode", ("differs", "one character apart", "same")),
    FieldSpec("state", "State", ("differs", "same")),
)
FIELD_NAMES = tuple(spec.name for spec in FIELDS)
MAX_LEVELS = max(len(spec.levels) for spec in FIELDS)


@dataclass
class Column:
    """One field of many people, as integer codes into a vocabulary of distinct values.

    Comparing codes is exact equality in C; similarities are computed once per distinct pair
    of values, not once per pair of people (names repeat a lot).
    """

    codes: np.ndarray  # int64 per person; 0 is the empty value
    vocab: np.ndarray  # object array of the distinct values; vocab[0] == ""
    # Per-vocabulary arrays already derived (by name): the scan compares in slices.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def per_value(self, name: str, function) -> np.ndarray:
        """function(vocab) (an array per vocabulary entry), computed once per column."""
        if name not in self.memo:
            self.memo[name] = function(self.vocab)
        return self.memo[name]

    @classmethod
    def of(cls, values: Sequence[str]) -> "Column":
        if not any(values):  # a field nobody has (no emails in the batch): nothing to index
            return cls(codes=np.zeros(len(values), dtype=np.int64), vocab=np.array([""], dtype=object))
        # Codes in order of first appearance, "" first; built with C-level dict operations.
        index = dict(zip(dict.fromkeys(("", *values)), range(len(values) + 1)))
        codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
        vocab = np.empty(len(index), dtype=object)
        vocab[:] = list(index)
        return cls(codes=codes, vocab=vocab)

    def derived(self, function) -> np.ndarray:
        """A code per vocabulary entry for a value derived from it (-1 where it has none)."""
        index: dict[str, int] = {}
        out = np.full(len(self.vocab), -1, dtype=np.int64)
        for code, value in enumerate(self.vocab):
            result = function(value) if value else ""
            if result:
                out[code] = index.setdefault(result, len(index))
        return out

    def mapped(self, function) -> "Column":
        """The column of function(value) ('' stays ''), computed once per distinct value."""
        return self.mapped_many(lambda values: [function(value) for value in values])

    def mapped_many(self, function) -> "Column":
        """The column of function(values)[k] for every distinct non-empty value (one call)."""
        vocab = self.vocab.tolist()
        filled = [position for position, value in enumerate(vocab) if value]
        results = function([vocab[position] for position in filled]) if filled else []
        index = dict(zip(dict.fromkeys(("", *results)), range(len(results) + 1)))
        per_value = np.zeros(len(vocab), dtype=np.int64)
        per_value[filled] = np.fromiter(map(index.__getitem__, results), dtype=np.int64, count=len(results))
        return Column(codes=per_value[self.codes], vocab=_object_array(list(index)))


def _object_array(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def columns(people: Sequence[Person]) -> dict[str, Column]:
    """The people, field by field (what the comparisons index into)."""
    return columns_of({name: [getattr(person, name) for person in people] for name in (*FIELD_NAMES, "domain")})


def columns_of(values: dict[str, Sequence[str]]) -> dict[str, Column]:
    """Cleaned values field by field (as in a Person), with what ``with_derived`` adds."""
    return with_derived({name: Column.of(values[name]) for name in (*FIELD_NAMES, "domain")})


def with_derived(cols: dict[str, Column]) -> dict[str, Column]:
    """The cleaned columns plus what is derived per person: the mailbox name, whether that
    mailbox is only the person's own names spelled out, and the domain of a business (not
    free-mail) address."""
    email = cols["email"]
    mailbox = email.mapped(_mailbox)
    named = np.zeros(len(mailbox.codes), dtype=np.int64)
    people = np.flatnonzero(mailbox.codes)
    if len(people):
        boxes = mailbox.vocab[mailbox.codes[people]].tolist()
        firsts = cols["first"].vocab[cols["first"].codes[people]].tolist()
        lasts = cols["last"].vocab[cols["last"].codes[people]].tolist()
        flags = [_spelled_from_names(box, first, last) for box, first, last in zip(boxes, firsts, lasts, strict=True)]
        named[people[np.asarray(flags, dtype=bool)]] = 1
    return {
        **cols,
        "mailbox": mailbox,
        "mailbox_named": Column(codes=named, vocab=_object_array(["", "1"])),
        "work_domain": email.mapped(_work_domain),
    }


def _pair_similarity(scorer, column: Column, a: np.ndarray, b: np.ndarray, *, cutoff: float, same: float) -> np.ndarray:
    """scorer(value_a, value_b) for code pairs, computed once per distinct pair of different
    values (``same`` is the score of a value with itself: no need to ask the scorer).

    ``cutoff`` is the lowest similarity (or highest distance) any level asks about: past it
    the scorer may stop early, and the score only says "past the cutoff".
    """
    scores = np.full(len(a), same, dtype=np.float64)
    differ = np.flatnonzero(a != b)
    if len(differ):
        scores[differ] = _distinct_pair_similarity(scorer, column, a[differ], b[differ], cutoff=cutoff)
    return scores


def _distinct_pair_similarity(scorer, column: Column, a: np.ndarray, b: np.ndarray, *, cutoff: float) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    size = len(column.vocab)
    if size * size > len(a):
        # Too many possible value pairs for these pairs of people to repeat many of them: at a
        # hundred thousand people, 25–45 % of name, town and date pairs repeat, and finding
        # them (a sort) cost more than scoring them twice. Few distinct values (states, the
        # colleagues of one company) repeat enough to be worth it.
        unique, inverse = None, None
        left, right = column.vocab[a].tolist(), column.vocab[b].tolist()
    else:
        unique, inverse = np.unique(a * size + b, return_inverse=True)
        left = column.vocab[unique // size].tolist()
        right = column.vocab[unique % size].tolist()
    count = len(left)
    if count <= 64:
        # A handful of distinct pairs (one lead at capture): calling the scorer directly is
        # cheaper than cpdist's setup, and gives the same scores.
        scores = np.fromiter((scorer(x, y, score_cutoff=cutoff) for x, y in zip(left, right)), dtype=np.float64, count=count)
    else:
        scores = np.asarray(
            cpdist(left, right, scorer=scorer, score_cutoff=cutoff, workers=-1 if count > 50_000 else 1), dtype=np.float64
        )
    return scores if inverse is None else scores[inverse]


_NOT_A_LETTER = re.compile(r"[^a-z]+")
# Every ASCII character but a–z, deleted by str.translate (a third of the regular expression's
# cost on the short texts this sees).
_ASCII_NON_LETTERS = str.maketrans(dict.fromkeys(chr(code) for code in range(128) if not "a" <= chr(code) <= "z"))


def _letters(value: str) -> str:
    """Only the letters a–z (capture runs this over every candidate's mailbox and names)."""
    if value.isascii():
        return value.translate(_ASCII_NON_LETTERS)
    return _NOT_A_LETTER.sub("", value)


def _mailbox(email: str) -> str:
    box = _letters(email.partition("@")[0])
    return box if len(box) >= 5 else ""


def _spelled_from_names(box: str, first: str, last: str) -> bool:
    """Is this mailbox name just the person's own names (ann.smith, asmith, smith.ann, annsmith)?

    Such a mailbox is a function of the names: two different Ann Smiths at two employers that
    both write first.last@ have the same mailbox name, so agreeing on it says nothing the
    names have not said already (counting it again would double the name evidence).
    """
    given, family = _letters(first), _letters(last)
    if not given and not family:
        return False
    initials = "".join(word[0] for word in first.split() if word[0].isalpha())
    forms = {given, family, given + family, family + given}
    if given and family:
        forms |= {given[0] + family, family + given[0], given + family[0], family[0] + given, initials + family, family + initials}
    return box in forms


def _work_domain(email: str) -> str:
    """The domain of a business address ('' for none or a free-mail provider)."""
    domain = email.rpartition("@")[2] if "@" in email else ""
    return "" if domain in FREE_MAIL_DOMAINS else domain


def _words_sorted(vocab: np.ndarray) -> np.ndarray:
    return _object_array([" ".join(sorted(value.split())) for value in vocab.tolist()])


def _day_month_swapped(vocab: np.ndarray) -> np.ndarray:
    """Per birth date, the code of the same date with day and month swapped (-1 for none)."""
    lookup = {value: code for code, value in enumerate(vocab.tolist())}
    return np.fromiter((lookup.get(v[:4] + v[6:8] + v[4:6], -1) if v else -1 for v in vocab.tolist()), dtype=np.int64, count=len(vocab))


def compare(cols: dict[str, Column], ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Levels (pairs × fields, int8, -1 = missing) for the pairs of people (ia[k], ib[k])."""
    n = len(ia)
    levels = np.full((n, len(FIELDS)), -1, dtype=np.int8)
    domain = cols["domain"]
    for column_index, spec in enumerate(FIELDS):
        name = spec.name
        column = cols[name]
        ca, cb = column.codes[ia], column.codes[ib]
        present = (ca != 0) & (cb != 0)
        if name == "company":
            # The same company domain is the same company, whatever the name says.
            da, db = domain.codes[ia], domain.codes[ib]
            present = present | ((da != 0) & (db != 0))
        if not present.any():
            continue
        idx = np.nonzero(present)[0]
        ca, cb = ca[idx], cb[idx]
        exact = ca == cb
        out = np.zeros(len(idx), dtype=np.int8)
        if name in ("first", "last"):
            jw = _pair_similarity(JaroWinkler.normalized_similarity, column, ca, cb, cutoff=0.80, same=1.0)
            out[jw >= 0.80] = 1
            out[jw >= 0.92] = 2
            # An initial agrees with a name that starts with it.
            lengths = column.per_value("lengths", lambda vocab: np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab)))
            initials = column.per_value("initials", lambda vocab: column.derived(lambda v: v[0]))
            initial = ((lengths[ca] == 1) | (lengths[cb] == 1)) & (initials[ca] == initials[cb])
            out[initial & (out < 1)] = 1
            out[exact] = 3
        elif name in ("birth", "postcode", "external_id"):
            dist = _pair_similarity(Levenshtein.distance, column, ca, cb, cutoff=1, same=0.0)
            out[dist <= 1] = 1
            if name == "birth":
                swapped = column.per_value("day_month_swapped", _day_month_swapped)
                out[swapped[ca] == cb] = 1
            out[exact] = len(spec.levels) - 1
        elif name == "email":
            # The same mailbox name once dots, dashes and digits are gone (john.smith7 /
            # johnsmith), long enough to mean something, and not just both people's names
            # spelled out (the names are compared on their own fields).
            box, named = cols["mailbox"].codes, cols["mailbox_named"].codes
            pa, pb = ia[idx], ib[idx]
            same_box = (box[pa] != 0) & (box[pa] == box[pb]) & ~((named[pa] != 0) & (named[pb] != 0))
            out[same_box] = 1
            out[exact] = 2
        elif name == "phone":
            tail7 = column.per_value("tail7", lambda vocab: column.derived(lambda v: v[-7:]))
            tail9 = column.per_value("tail9", lambda vocab: column.derived(lambda v: v[-9:]))
            dist = _pair_similarity(Levenshtein.distance, column, ca, cb, cutoff=1, same=0.0)
            out[(tail7[ca] == tail7[cb]) | (dist <= 1)] = 1
            out[exact | (tail9[ca] == tail9[cb])] = 2
        elif name == "company":
            da, db = domain.codes[ia][idx], domain.codes[ib][idx]
            both_named = (ca != 0) & (cb != 0)
            token = _pair_similarity(fuzz.token_set_ratio, column, ca, cb, cutoff=80, same=100.0) / 100.0
            out[both_named & (token >= 0.8)] = 1
            out[both_named & exact] = 2
            out[(da != 0) & (da == db)] = 2
        elif name == "street":
            # token_sort_ratio is the plain ratio of the words sorted: sorted once per street.
            by_words = column.per_value("words_sorted", lambda vocab: Column(codes=column.codes, vocab=_words_sorted(vocab)))
            ratio = _pair_similarity(fuzz.ratio, by_words, ca, cb, cutoff=70, same=100.0) / 100.0
            out[ratio >= 0.70] = 1
            out[ratio >= 0.88] = 2
            out[exact] = 3
        elif name == "city":
            jw = _pair_similarity(JaroWinkler.normalized_similarity, column, ca, cb, cutoff=0.88, same=1.0)
            out[jw >= 0.88] = 1
            out[exact] = 2
        else:  # state
            out[exact] = 1
        levels[idx, column_index] = out
    return levels


# Fields that single a person out, at least partly; names, city and state describe groups.
_BEYOND_NAMES_AND_PLACE = ("birth", "email", "phone", "external_id", "company", "street", "postcode")


def agrees_beyond_names_and_place(levels: np.ndarray) -> np.ndarray:
    """Pairs that agree (at least nearly) on something besides their names, city and state.

    Before the model is estimated on the base, its default weights make every namesake in the
    same city look probable: an import of 100,000 people with common names, each writing
    from their own company's address, queued a million such pairs. A person looking at
    "Ann Smith, New York" at two companies cannot tell either, so capture does not queue
    such pairs when their work addresses already say two people (``update_needs_review``).
    """
    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    columns = [FIELD_NAMES.index(name) for name in _BEYOND_NAMES_AND_PLACE]
    return (levels[:, columns] >= 1).any(axis=1)


# Fields only one person has; a switchboard phone is shared, so phone counts only at "same".
_PERSONAL = ("birth", "external_id", "street", "postcode")


def _similarities(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaro–Winkler similarity of each pair of names, below 0.8 reported as 0 (in C)."""
    return np.asarray(cpdist(left.tolist(), right.tolist(), scorer=JaroWinkler.normalized_similarity, score_cutoff=0.8), dtype=np.float64)


def _codes_in(values: np.ndarray, vocab: np.ndarray) -> np.ndarray:
    """Per value, its code in another column's vocabulary (-1 where it is not there)."""
    index = {value: code for code, value in enumerate(vocab.tolist())}
    return np.fromiter((index.get(value, -1) for value in values.tolist()), dtype=np.int64, count=len(values))


def names_contradict(cols: dict[str, Column], ia: np.ndarray, ib: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Pairs whose names say two people, which capture neither merges nor queues.

    - Both given name and surname differ outright (and are not the same two names swapped,
      even with a typo), and no external id, nor a birth date at the same address, says one
      person: "Marco Johansson" and "Maya Shah" sharing a company's switchboard number are
      colleagues.
    - The surnames differ outright and nothing only one person has agrees (birth date,
      external id, street, postcode, a mailbox that is not just the names): "Yara Nagy" and
      "Yara Rossi" at one company are colleagues with a common given name, not a maiden name.
    Before the model is estimated on the base its default weights cannot know that colleagues
    share a company, a town and often a given name; a queue full of them hides the real pairs.
    """
    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    first, last = levels[:, FIELD_NAMES.index("first")], levels[:, FIELD_NAMES.index("last")]
    # Swapped names on codes: each first name's code among the last names (and the other way).
    first_col, last_col = cols["first"], cols["last"]
    first_as_last = first_col.per_value("code_among_last", lambda vocab: _codes_in(vocab, last_col.vocab))
    last_as_first = last_col.per_value("code_among_first", lambda vocab: _codes_in(vocab, first_col.vocab))
    fa, fb, la, lb = first_col.codes[ia], first_col.codes[ib], last_col.codes[ia], last_col.codes[ib]
    swapped = (fa != 0) & (first_as_last[fa] == lb) & (last_as_first[la] == fb)
    both_differ = (first == 0) & (last == 0) & ~swapped
    # Swapped and mistyped ("Smiht John" / "John Smith"): each name close to the other's other.
    crossed = np.flatnonzero(both_differ & (fa != 0) & (lb != 0) & (la != 0) & (fb != 0))
    if len(crossed):
        first_vocab, last_vocab = first_col.vocab, last_col.vocab
        near = (_similarities(first_vocab[fa[crossed]], last_vocab[lb[crossed]]) >= 0.8) & (
            _similarities(last_vocab[la[crossed]], first_vocab[fb[crossed]]) >= 0.8
        )
        swapped[crossed[near]] = True
        both_differ &= ~swapped
    # The same external id, or the same birth date at (nearly) the same address, outweighs
    # names typed wrongly; a birthday, phone or home alone shared by someone of other names
    # does not (birthdays coincide, families share homes and numbers).
    same_birth = levels[:, FIELD_NAMES.index("birth")] == 2
    near_address = (levels[:, FIELD_NAMES.index("postcode")] >= 1) | (levels[:, FIELD_NAMES.index("street")] >= 1)
    identified = (levels[:, FIELD_NAMES.index("external_id")] == 2) | (same_birth & near_address)
    personal = (levels[:, [FIELD_NAMES.index(name) for name in _PERSONAL]] >= 1).any(axis=1)
    personal |= levels[:, FIELD_NAMES.index("phone")] == 2
    personal |= levels[:, FIELD_NAMES.index("email")] >= 1
    return (both_differ & ~identified) | ((last == 0) & ~swapped & ~personal)


def update_needs_review(cols: dict[str, Column], ia: np.ndarray, ib: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Pairs that a match, however probable, must never resolve on its own by updating a record.

    Both people write from business addresses and the addresses differ:
    - at different domains while the companies do not agree, it is another person of the same
      name or the same person after a job change; either way a person decides;
    - at the same domain, an employer gives each person their own mailbox (namesakes get a
      digit: ann.smith / ann.smith2), so two addresses mean two people unless something only
      one person has agrees: the birth date or an external id.
    Names, company and city describe a group of people, not one of them.
    """
    work, email = cols["work_domain"].codes, cols["email"].codes
    wa, wb = work[ia], work[ib]
    two_work_addresses = (wa != 0) & (wb != 0) & (email[ia] != email[ib])
    other_employer = two_work_addresses & (wa != wb) & (levels[:, FIELD_NAMES.index("company")] < 1)
    identified = (levels[:, FIELD_NAMES.index("birth")] == 2) | (levels[:, FIELD_NAMES.index("external_id")] == 2)
    return other_employer | (two_work_addresses & ~identified)


# EM learns what duplicates look like from the base itself; it needs some to learn from.
MIN_SURE_DUPLICATES = 25


def surely_duplicates(levels: np.ndarray) -> np.ndarray:
    """Patterns (or pairs) that are duplicates beyond reasonable doubt: both names at least
    very similar and a personal identifier the same (birth date, external id, email, phone)."""
    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    names = (levels[:, FIELD_NAMES.index("first")] >= 2) & (levels[:, FIELD_NAMES.index("last")] >= 2)
    identifier = np.zeros(len(levels), dtype=bool)
    for name in ("birth", "external_id", "email", "phone"):
        spec = FIELDS[FIELD_NAMES.index(name)]
        identifier |= levels[:, FIELD_NAMES.index(name)] == len(spec.levels) - 1
    return names & identifier


def worth_review(levels: np.ndarray, *, two_people: np.ndarray, two_work_addresses: np.ndarray) -> np.ndarray:
    """Pairs worth a reviewer's time, however probable the model finds them: the names do not
    say two people (``names_contradict``), and two people writing from their own work
    addresses (``update_needs_review``) share more than names and a town. Capture and the
    whole-base scan queue only these."""
    return (~two_work_addresses | agrees_beyond_names_and_place(levels)) & ~two_people


# --------------------------------------------------------------------------- the model

_DEFAULT_M = {
    2: [0.05, 0.95],
    3: [0.05, 0.15, 0.80],
    4: [0.04, 0.06, 0.15, 0.75],
}


@dataclass
class MatchParameters:
    """m and u per field and level, and the prior probability that a candidate pair matches."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float = 0.05
    details: dict = field(default_factory=dict)

    @classmethod
    def default(cls) -> "MatchParameters":
        """What the matcher assumes before it has seen the base: rare agreement is strong."""
        m, u = [], []
        for spec in FIELDS:
            k = len(spec.levels)
            m.append(list(_DEFAULT_M[k]))
            if k == 2:
                u.append([0.9, 0.1])
            elif k == 3:
                u.append([0.985, 0.01, 0.005])
            else:
                u.append([0.96, 0.03, 0.007, 0.003])
        u[FIELD_NAMES.index("email")] = [0.9989, 0.001, 0.0001]
        # People keep several addresses: a different one is weak evidence against.
        m[FIELD_NAMES.index("email")] = [0.3, 0.1, 0.6]
        u[FIELD_NAMES.index("phone")] = [0.9999, 0.00008, 0.00002]
        u[FIELD_NAMES.index("external_id")] = [0.9999, 0.00008, 0.00002]
        u[FIELD_NAMES.index("birth")] = [0.97, 0.03, 0.0002]
        u[FIELD_NAMES.index("postcode")] = [0.97, 0.02, 0.01]
        return cls(m=m, u=u, prior=0.01)

    def as_json(self) -> dict:
        return {"m": self.m, "u": self.u, "prior": self.prior, "details": self.details}

    @classmethod
    def from_json(cls, data: dict) -> "MatchParameters":
        return cls(m=data["m"], u=data["u"], prior=data["prior"], details=data.get("details", {}))

    def weight_table(self) -> np.ndarray:
        """log2(m/u) per field (rows) and level (columns); a last column of zeros for 'missing'."""
        table = np.zeros((len(FIELDS), MAX_LEVELS + 1))
        for f, spec in enumerate(FIELDS):
            for level in range(len(spec.levels)):
                # Errors always happen among true duplicates: no level is impossible for them.
                table[f, level] = math.log2(max(self.m[f][level], 1e-3) / max(self.u[f][level], 1e-6))
        return table

    def weights(self, levels: np.ndarray) -> np.ndarray:
        """Match weight (bits) of each pair: the prior's log-odds plus every field's evidence."""
        table = self.weight_table()
        index = np.where(levels < 0, MAX_LEVELS, levels).astype(np.intp)
        total = table[np.arange(len(FIELDS))[None, :], index].sum(axis=1)
        prior = min(max(self.prior, 1e-9), 1 - 1e-9)
        return total + math.log2(prior / (1 - prior))

    def probabilities(self, levels: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp2(-np.clip(self.weights(levels), -60, 60)))

    def explain(self, levels: Sequence[int], table: np.ndarray | None = None) -> list[dict]:
        """Field by field: the level reached and how many bits of evidence it adds."""
        table = self.weight_table() if table is None else table
        rows = []
        for f, spec in enumerate(FIELDS):
            level = int(levels[f])
            if level < 0:
                rows.append({"field": spec.name, "label": spec.label, "level": "missing", "weight": 0.0})
            else:
                rows.append(
                    {"field": spec.name, "label": spec.label, "level": spec.levels[level], "weight": round(float(table[f, level]), 2)}
                )
        return rows


def patterns_of(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct comparison patterns, how often each occurs, and each pair's pattern.

    EM and scoring work on patterns (a few thousand), not on pairs (hundreds of thousands).
    """
    if len(levels) == 0:
        return np.zeros((0, len(FIELDS)), dtype=np.int8), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    base = MAX_LEVELS + 1
    powers = base ** np.arange(len(FIELDS), dtype=np.int64)
    # One integer per pattern (a fast unique), built field by field: an int64 copy of the
    # whole matrix would be eight times its size.
    codes = np.zeros(len(levels), dtype=np.int64)
    for f in range(len(FIELDS)):
        codes += (levels[:, f].astype(np.int64) + 1) * powers[f]
    unique, pattern_of, counts = np.unique(codes, return_inverse=True, return_counts=True)
    patterns = ((unique[:, None] // powers[None, :]) % base - 1).astype(np.int8)
    return patterns, counts, pattern_of.ravel()


def estimate_u(levels: np.ndarray) -> list[list[float]]:
    """u from comparisons of random pairs (nearly all of which are different people)."""
    u = []
    for f, spec in enumerate(FIELDS):
        column = levels[:, f]
        column = column[column >= 0]
        counts = np.array([(column == level).sum() for level in range(len(spec.levels))], dtype=np.float64)
        # Half a pair of smoothing: a level never seen among random pairs is rare, not impossible.
        counts += 0.5
        u.append((counts / counts.sum()).tolist())
    return u


def estimate_em(
    patterns: np.ndarray,
    counts: np.ndarray,
    *,
    u: list[list[float]],
    start: MatchParameters | None = None,
    known_distinct: np.ndarray | None = None,
    iterations: int = 100,
    tolerance: float = 1e-6,
) -> MatchParameters:
    """m, u and the prior by expectation–maximisation over the candidate pairs.

    u starts from random pairs of the base and is then re-estimated among the candidate pairs
    themselves: every pair the matcher ever scores is a candidate pair (the same blocking
    feeds the scan and capture), so "different people who share a blocking key" is the
    population u must describe.

    ``known_distinct`` counts, per pattern, pairs already known to be two people (their names
    say so): they count among the non-matches only. Without them, a base of companies whose
    colleagues share an account and a town can pull the matching class onto colleagues.
    """
    params = start or MatchParameters.default()
    params = MatchParameters(m=[list(row) for row in params.m], u=[list(row) for row in u], prior=min(max(params.prior, 0.01), 0.5))
    counts = counts.astype(np.float64)
    known = np.zeros(len(counts)) if known_distinct is None else known_distinct.astype(np.float64)
    if counts.sum() == 0:
        return params

    def estimate(weighted: np.ndarray) -> list[list[float]]:
        table = []
        for f, spec in enumerate(FIELDS):
            column = patterns[:, f]
            present = column >= 0
            denominator = weighted[present].sum()
            row = []
            for level in range(len(spec.levels)):
                numerator = weighted[column == level].sum()
                row.append(float((numerator + 0.01) / (denominator + 0.01 * len(spec.levels))))
            table.append(row)
        return table

    done = 0
    for done in range(1, iterations + 1):
        g = params.probabilities(patterns)
        matched = counts * g
        new_prior = float(matched.sum() / counts.sum())
        new_m = estimate(matched)
        new_u = estimate(counts - matched + known)
        change = abs(new_prior - params.prior) + max(
            abs(a - b)
            for old, new in ((params.m, new_m), (params.u, new_u))
            for old_row, new_row in zip(old, new, strict=True)
            for a, b in zip(old_row, new_row, strict=True)
        )
        params.m, params.u, params.prior = new_m, new_u, min(max(new_prior, 1e-6), 0.999)
        if change < tolerance:
            break
    params.details = {
        "em_iterations": done, "candidate_pairs": int(counts.sum() + known.sum()), "known_distinct_pairs": int(known.sum()),
        "patterns": int(len(patterns)),
    }
    return params


def learn_from_decisions(
    params: MatchParameters, *, merged: np.ndarray, distinct: np.ndarray, strength: float = 500.0
) -> MatchParameters:
    """Pull m towards the patterns of pairs people merged and u towards those they kept apart.

    The estimated parameters act as a prior worth ``strength`` pairs; each decision is one
    observed pair, so a handful of "not a duplicate" on look-alikes lowers the weight that
    agreement on those fields carries, and merges raise it.
    """

    def update(table: list[list[float]], decided: np.ndarray) -> list[list[float]]:
        out = []
        for f, spec in enumerate(FIELDS):
            column = decided[:, f] if len(decided) else np.zeros(0, dtype=np.int8)
            column = column[column >= 0]
            observed = np.array([(column == level).sum() for level in range(len(spec.levels))], dtype=np.float64)
            prior = np.array(table[f], dtype=np.float64) * strength
            out.append(((prior + observed) / (strength + observed.sum())).tolist())
        return out

    learned = MatchParameters(
        m=update(params.m, merged), u=update(params.u, distinct), prior=params.prior, details=dict(params.details)
    )
    learned.details.update({"merged_decisions": int(len(merged)), "distinct_decisions": int(len(distinct))})
    return learned


# --------------------------------------------------------------------------- candidate pairs


def candidate_pairs(keys_per_record: Sequence[Sequence[str]], *, max_block: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of records sharing a blocking key (i < j, each pair once).

    A key shared by more than ``max_block`` records (a placeholder value, a huge company) is
    no evidence of anything and is skipped, as a stop-value would be.
    """
    blocks: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_per_record):
        for key in keys:
            blocks.setdefault(key, []).append(index)
    n = len(keys_per_record)
    twos_a, twos_b, chunks = [], [], []
    triangles: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for members in blocks.values():
        size = len(members)
        if size < 2 or size > max_block:
            continue
        if size == 2:  # most blocks: no array work
            twos_a.append(members[0])
            twos_b.append(members[1])
            continue
        if size not in triangles:
            triangles[size] = np.triu_indices(size, k=1)
        i, j = triangles[size]
        arr = np.asarray(members, dtype=np.int64)
        chunks.append(arr[i] * n + arr[j])
    if twos_a:
        chunks.append(np.asarray(twos_a, dtype=np.int64) * n + np.asarray(twos_b, dtype=np.int64))
    if not chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = np.unique(np.concatenate(chunks))
    return codes // n, codes % n


def random_pairs(n: int, *, count: int, seed: int = 20261201) -> tuple[np.ndarray, np.ndarray]:
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, n, size=count)
    ib = rng.integers(0, n, size=count)
    keep = ia != ib
    return ia[keep], ib[keep]


@dataclass
class ScanResult:
    ia: np.ndarray
    ib: np.ndarray
    patterns: np.ndarray  # distinct comparison patterns (patterns × fields)
    pattern_of: np.ndarray  # each pair's row in ``patterns``
    params: MatchParameters
    two_people: np.ndarray | None = None  # each pair: do the names say two people (``names_contradict``)?

    @property
    def levels(self) -> np.ndarray:
        return self.patterns[self.pattern_of]

    def probabilities_under(self, params: MatchParameters) -> np.ndarray:
        """Each pair's match probability under these parameters (computed once per pattern)."""
        return params.probabilities(self.patterns)[self.pattern_of] if len(self.patterns) else np.zeros(len(self.ia))

    @property
    def probabilities(self) -> np.ndarray:
        return self.probabilities_under(self.params)


def scan(people: Sequence[Person], **options) -> ScanResult:
    """The whole-base scan over people in memory (see ``scan_columns``)."""
    return scan_columns(columns(people), **options)


def scan_columns(
    cols: dict[str, Column],
    *,
    start: MatchParameters | None = None,
    merged: np.ndarray | None = None,
    distinct: np.ndarray | None = None,
    random_sample: int = 30_000,
    on_progress=None,
) -> ScanResult:
    """The whole-base scan on cleaned columns: block, compare, estimate, score.

    Nothing here holds an object per person: blocks are integer codes (``blocking``), pairs
    are two index arrays, comparisons a small integer matrix.
    """
    from accord.dedup.blocking import candidate_pairs_of, key_families

    progress = on_progress or (lambda step, fraction: None)
    count = len(cols["first"].codes)
    progress("blocking", 0.1)
    ia, ib = candidate_pairs_of(key_families(cols))
    progress("comparing", 0.2)
    levels = np.zeros((0, len(FIELDS)), dtype=np.int8)
    parts = []
    # In slices: the string scorers copy every string they are given, and a slice's copies
    # are freed before the next (a whole scan's at once would double the peak memory).
    step = 100_000
    contradicted = []
    for offset in range(0, len(ia), step):
        part_a, part_b = ia[offset : offset + step], ib[offset : offset + step]
        parts.append(compare(cols, part_a, part_b))
        contradicted.append(names_contradict(cols, part_a, part_b, parts[-1]))
        progress("comparing", 0.2 + 0.5 * min(1.0, (offset + step) / max(len(ia), 1)))
    if parts:
        levels = np.concatenate(parts) if len(parts) > 1 else parts[0]
    progress("estimating", 0.75)
    # u only starts from random pairs (EM refines it among the candidates): a sample suffices.
    ra, rb = random_pairs(count, count=min(random_sample, max(count * 5, 1000)))
    u = estimate_u(compare(cols, ra, rb)) if len(ra) else MatchParameters.default().u
    patterns, counts, pattern_of = patterns_of(levels)
    del levels
    # Pairs whose names say two people are known non-matches: they inform u, never m.
    two_people = np.concatenate(contradicted) if parts else np.zeros(0, dtype=bool)
    distinct_people = np.bincount(pattern_of[two_people], minlength=len(patterns)) if parts else counts
    sure = int(counts[surely_duplicates(patterns)].sum())
    if sure >= MIN_SURE_DUPLICATES:
        params = estimate_em(patterns, counts - distinct_people, u=u, start=start, known_distinct=distinct_people)
    else:
        # Too few duplicates to learn what a duplicate looks like: EM would make a class of
        # whatever is most alike (colleagues, namesakes). Keep the model as it is.
        params = start or MatchParameters.default()
        params = MatchParameters(m=params.m, u=params.u, prior=params.prior, details={**params.details})
        params.details.update({"em_skipped": True, "candidate_pairs": int(len(ia))})
    params.details["sure_duplicates"] = sure
    if merged is not None and distinct is not None and (len(merged) or len(distinct)):
        params = learn_from_decisions(params, merged=merged, distinct=distinct)
    progress("scoring", 0.9)
    return ScanResult(ia=ia, ib=ib, patterns=patterns, pattern_of=pattern_of, params=params, two_people=two_people)
