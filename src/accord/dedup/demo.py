"""Demo data for duplicates: people who came in a second time under a slightly different name.

The demo company's people are all different, so without this the review queue would show
nothing worth a look. A handful of existing contacts sign up again the way real people do —
a nickname, a typo, a private address, the company written another way — through the same
capture pipeline as every lead, so matching decides what becomes an update and what waits
in the review queue.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime

from accord.crm.models import Contact, StageChange
from accord.dedup.keys import fold
from accord.intake.leads import lead_from_mapping
from accord.intake.services import leads_capture_bulk

RETURNING_PEOPLE = 16
_NICKNAMES = {
    "alexander": "Alex", "benjamin": "Ben", "daniel": "Dan", "elizabeth": "Liz", "jonathan": "Jon",
    "katherine": "Kate", "michael": "Mike", "nicholas": "Nick", "robert": "Rob", "samuel": "Sam",
    "thomas": "Tom", "william": "Will", "christopher": "Chris", "jennifer": "Jen", "matthew": "Matt",
}


def _typo(rng: random.Random, name: str) -> str:
    """One slip of the keyboard: two neighbouring letters swapped, or one doubled."""
    if len(name) < 4:
        return name
    at = rng.randrange(1, len(name) - 2)
    if rng.random() < 0.5:
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    return name[: at + 1] + name[at] + name[at + 1 :]


def _company_variant(name: str) -> str:
    return name.upper() if len(name) < 12 else f"{name} Inc."


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    rng = random.Random(seed * 7 + 5)
    pool = list(
        Contact.objects.filter(account__isnull=False)
        .exclude(first_name="")
        .exclude(last_name="")
        .order_by("id")
        .values("first_name", "last_name", "email", "phone", "city", "country", "account__name")[:2000]
    )
    if not pool:
        return
    returning = rng.sample(pool, min(RETURNING_PEOPLE, len(pool)))
    leads = []
    for position, person in enumerate(returning):
        first, last = person["first_name"], person["last_name"]
        variant = position % 4
        data = {
            "first_name": _NICKNAMES.get(first.lower(), first),
            "last_name": last,
            "company": person["account__name"],
            "city": person["city"],
            "country": person["country"],
        }
        # As the names appear in an address: Müller → muller, de Vries → devries.
        given, family = "".join(fold(first).split()), "".join(fold(last).split())
        local = given + family
        if variant == 0:  # a private address and the same phone: the phone finds the record
            data.update(email=f"{local}{rng.randrange(10, 99)}@gmail.com", phone=person["phone"])
        elif variant == 1:  # a typo in the surname and the company written another way
            data.update(last_name=_typo(rng, last), company=_company_variant(person["account__name"]),
                        email=f"{given[:1]}{family}.{rng.randrange(100, 999)}@outlook.com")
        elif variant == 2:  # a private address, nothing else that only this person has: a human decides
            data.update(email=f"{given[:1]}.{family}{rng.randrange(1, 9)}@yahoo.com")
        else:  # the work address with a typo in the first name
            data.update(first_name=_typo(rng, first), email=person["email"].replace("@", ".work@", 1))
        # Dated at the demo's own "now", so the same seed and day give the same records.
        leads.append((position, replace(lead_from_mapping(data, default_region="US"), occurred_at=now)))
    summary = leads_capture_bulk(leads=leads, source=StageChange.Source.CAPTURE)
    stdout.write(
        f"duplicates: {len(leads)} people signed up again; {summary.updated} matched their records, "
        f"{summary.created} wait for review at /duplicates/"
    )
