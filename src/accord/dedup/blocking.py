"""Candidate pairs of the whole-base scan, formed from integer codes instead of key strings.

``keys.blocking_keys`` spells a person's blocking keys out as strings (the match-key index
stores them and capture looks them up). The scan forms the same blocks for every contact at
once: each key family is an integer per person, combined from the codes of its parts (the
sound of both names, postcode and house number, …), and people sharing an integer share the
key. The parts are the ones ``blocking_keys`` joins, each cut to the same length, so two
people share a key here exactly when they share it there (tests/dedup/test_blocking.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accord.dedup.engine import Column
from accord.dedup.keys import house_number, soundex, street_name

# A key shared by more people than this says nothing (a placeholder value, a huge company):
# its block is skipped, as a stop-value would be. Capture uses the same limit.
MAX_BLOCK = 300


def _part(
    column: Column, function: Callable[[str], str | None], index: dict[str, int] | None = None, *, missing: str | None = None
) -> np.ndarray:
    """A code per person for function(value); -1 where the value is empty or function says None.

    Computed once per distinct value. ``index`` shares codes between columns (the sound of a
    first name and of a last name are compared with each other). ``missing`` is what an
    empty value stands for instead of having no code (the '?' initial of a missing name).
    """
    index = {} if index is None else index
    per_value = np.full(len(column.vocab), -1, dtype=np.int64)
    for code, value in enumerate(column.vocab.tolist()):
        result = function(value) if value else missing
        if result is not None:
            per_value[code] = index.setdefault(result, len(index))
    return per_value[column.codes]


def _pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One code for two parts (-1 where either is missing)."""
    width = int(b.max(initial=0)) + 1
    return np.where((a >= 0) & (b >= 0), a * width + b, -1)


def _street_sound(street: str) -> str | None:
    name = street_name(street)
    return soundex(name) if name else None


def key_families(cols: dict[str, Column]) -> dict[str, np.ndarray]:
    """Per key family (the prefix of the string key), an int64 code per person; -1 = no key."""
    sounds: dict[str, int] = {}
    first_sound = _part(cols["first"], soundex, sounds)
    last_sound = _part(cols["last"], soundex, sounds)
    both = (first_sound >= 0) & (last_sound >= 0)
    low, high = np.minimum(first_sound, last_sound), np.maximum(first_sound, last_sound)
    width = len(sounds) + 1
    # "n:" joins the two sounds sorted as strings; codes sorted as numbers pair them the same way.
    names = np.where(both, low * width + high, -1)
    only_one = np.where(first_sound >= 0, first_sound, last_sound)
    one_name = np.where(~both & (only_one >= 0), only_one, -1)

    first_initial = _part(cols["first"], lambda value: value[0], missing="?")
    number = _part(cols["street"], lambda value: house_number(value) or None)
    return {
        "n": names,
        "o": one_name,
        "b": _part(cols["birth"], str),
        "p": _pair(_part(cols["postcode"], lambda value: value[:20]), number),
        "d": _pair(_part(cols["domain"], lambda value: value[:50]), first_initial),
        "c": _pair(_part(cols["company"], lambda value: value[:40]), first_initial),
        "s": _pair(_part(cols["street"], _street_sound), _part(cols["city"], lambda value: value[:4])),
        "t": _part(cols["phone"], lambda value: value[-9:]),
        "e": _part(cols["email"], lambda value: value[:60]),
        "x": _part(cols["external_id"], lambda value: value[:60]),
    }


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


def candidate_pairs_of(families: dict[str, np.ndarray], *, max_block: int = MAX_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of people sharing at least one key (i < j, each pair once)."""
    n = len(next(iter(families.values()))) if families else 0
    parts = [_block_pairs(codes, max_block=max_block) for codes in families.values()]
    parts = [part for part in parts if len(part)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = np.sort(np.concatenate(parts))
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]]  # each pair once (one sort, no hashing)
    return codes // n, codes % n
