"""Candidate pairs of the whole-base scan, formed from integer codes instead of key strings.

``keys.blocking_keys`` spells a person's blocking keys out as strings (the match-key index
stores them and capture looks them up). The scan forms the same blocks for every contact at
once: each key family is an integer per person, combined from the codes of its parts (the
sound of both names, postcode and house number, …), and people sharing an integer share the
key. The parts are the ones ``blocking_keys`` joins, each cut to the same length, so two
people share a key here exactly when they share it there (tests/dedup/test_blocking.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from accord.dedup.engine import Column
from accord.dedup.keys import house_number, soundex, street_name

# A key shared by more people than this says nothing (a placeholder value, a huge company):
# its block is skipped, as a stop-value would be. Capture uses the same limit.
MAX_BLOCK = 300


class Part(NamedTuple):
    """One part of a key for every person: a code (-1 for none) and the text of each code."""

    codes: np.ndarray
    texts: list[str]


def _part(
    column: Column, function: Callable[[str], str | None], index: dict[str, int] | None = None, *, missing: str | None = None
) -> Part:
    """function(value) for every person as codes; -1 where the value is empty or function says None.

    Computed once per distinct value. ``index`` shares codes between columns (the sound of a
    first name and of a last name are compared with each other). ``missing`` is what an
    empty value stands for instead of having no code (the '?' initial of a missing name).
    """
    index = {} if index is None else index
    results = [function(value) if value else missing for value in column.vocab.tolist()]
    # New texts numbered in order of first appearance, then every result looked up at C speed.
    fresh = [text for text in dict.fromkeys(results) if text is not None and text not in index]
    index.update(zip(fresh, range(len(index), len(index) + len(fresh))))
    lookup = {**index, None: -1}
    per_value = np.fromiter(map(lookup.__getitem__, results), dtype=np.int64, count=len(results))
    return Part(codes=per_value[column.codes], texts=list(index))


class Family(NamedTuple):
    """A key family: a code per person (-1 for none) and how a code is spelled as a key."""

    codes: np.ndarray
    spell: Callable[[int], str]


def _single(prefix: str, part: Part) -> Family:
    return Family(codes=part.codes, spell=lambda code: f"{prefix}:{part.texts[code]}")


def _pair(prefix: str, a: Part, b: Part) -> Family:
    """One code for two parts (-1 where either is missing), spelled prefix:a:b."""
    width = len(b.texts) + 1
    codes = np.where((a.codes >= 0) & (b.codes >= 0), a.codes * width + b.codes, -1)
    return Family(codes=codes, spell=lambda code: f"{prefix}:{a.texts[code // width]}:{b.texts[code % width]}")


def _street_sound(street: str) -> str | None:
    name = street_name(street)
    return soundex(name) if name else None


def key_families(cols: dict[str, Column]) -> dict[str, Family]:
    """Per key family (the prefix of the string key), an int64 code per person; -1 = no key."""
    sounds: dict[str, int] = {}
    first = _part(cols["first"], soundex, sounds)
    last = _part(cols["last"], soundex, sounds)
    texts = list(sounds)
    both = (first.codes >= 0) & (last.codes >= 0)
    low, high = np.minimum(first.codes, last.codes), np.maximum(first.codes, last.codes)
    width = len(texts) + 1
    # "n:" joins the two sounds sorted as strings: the same two sounds, whichever name had which.
    names = Family(
        codes=np.where(both, low * width + high, -1),
        spell=lambda code: "n:" + "".join(sorted((texts[code // width], texts[code % width]))),
    )
    only_one = np.where(first.codes >= 0, first.codes, last.codes)
    one_name = Family(codes=np.where(~both & (only_one >= 0), only_one, -1), spell=lambda code: f"o:{texts[code]}")

    initial = _part(cols["first"], lambda value: value[0], missing="?")
    return {
        "n": names,
        "o": one_name,
        "b": _single("b", _part(cols["birth"], str)),
        "p": _pair("p", _part(cols["postcode"], lambda value: value[:20]), _part(cols["street"], lambda value: house_number(value) or None)),
        "d": _pair("d", _part(cols["domain"], lambda value: value[:50]), initial),
        "c": _pair("c", _part(cols["company"], lambda value: value[:40]), initial),
        "s": _pair("s", _part(cols["street"], _street_sound), _part(cols["city"], lambda value: value[:4])),
        "t": _single("t", _part(cols["phone"], lambda value: value[-9:])),
        "e": _single("e", _part(cols["email"], lambda value: value[:60])),
        "x": _single("x", _part(cols["external_id"], lambda value: value[:60])),
    }


def key_rows(families: dict[str, Family], ids: np.ndarray) -> Iterator[list[tuple[int, str]]]:
    """(contact id, key) rows of the match-key index, one family at a time (a whole index of
    rows at once would cost memory): each distinct key spelled once, as
    ``keys.blocking_keys`` spells it."""
    for family in families.values():
        people = np.flatnonzero(family.codes >= 0)
        if len(people) == 0:
            continue
        distinct, inverse = np.unique(family.codes[people], return_inverse=True)
        spelled = np.empty(len(distinct), dtype=object)
        spelled[:] = [family.spell(code) for code in distinct.tolist()]
        yield list(zip(ids[people].tolist(), spelled[inverse.ravel()].tolist(), strict=True))


def _block_pairs(codes: np.ndarray, *, max_block: int) -> np.ndarray:
    """Every pair (i < j) of people with the same code, as i * n + j."""
    n = len(codes)
    people = np.flatnonzero(codes >= 0)
    if len(people) < 2:
        return np.zeros(0, dtype=np.int64)
    # Stable: within a block people stay in ascending order, so the left one is the smaller.
    order = people[np.argsort(codes[people], kind="stable")]
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    keep = (sizes >= 2) & (sizes <= max_block)
    starts, sizes = starts[keep], sizes[keep]
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    # Positions (in ``order``) of every member of a kept block, and how many come after it.
    members = np.repeat(starts, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    block_end = np.repeat(starts + sizes, sizes)
    after = block_end - members - 1
    total = int(after.sum())
    left = np.repeat(members, after)
    first_partner = np.repeat(np.cumsum(after) - after, after)
    right = left + 1 + (np.arange(total) - first_partner)
    return order[left] * n + order[right]


def candidate_pairs_of(families: dict[str, Family], *, max_block: int = MAX_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of people sharing at least one key (i < j, each pair once)."""
    n = len(next(iter(families.values())).codes) if families else 0
    parts = [_block_pairs(family.codes, max_block=max_block) for family in families.values()]
    parts = [part for part in parts if len(part)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = np.sort(np.concatenate(parts))
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]]  # each pair once (one sort, no hashing)
    return codes // n, codes % n
