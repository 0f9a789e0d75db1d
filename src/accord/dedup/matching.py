"""Matching at capture: "do we already know this person?", for a batch of incoming leads.

Exact keys first (normalized email; E.164 phone and external id when they point at exactly
one contact whose first name does not contradict), then fuzzy candidates found through the
match-key index and scored by the Fellegi–Sunter model. A fixed number of queries per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz.distance import JaroWinkler

from accord.crm.models import Contact
from accord.dedup.engine import (
    FIELD_NAMES,
    columns_of,
    compare,
    names_contradict,
    update_needs_review,
    worth_review,
)
from accord.dedup.keys import Person, blocking_keys, clean_email, clean_identifier, clean_phone, clean_text
from accord.dedup.queries import StoredKeys, candidates_by_keys, contact_keys_by_values, contacts_by_ids, current_parameters

# At or above: the lead is the existing contact (updated, not duplicated).
UPDATE_AT = 0.999
# At or above (and below UPDATE_AT): a new contact is created and the pair queued for review.
REVIEW_AT = 0.5
# A blocking key shared by more contacts than this says nothing (a placeholder, a huge company).
MAX_CANDIDATES_PER_KEY = 300
_FIRST, _LAST = FIELD_NAMES.index("first"), FIELD_NAMES.index("last")


@dataclass
class LeadMatch:
    contact: Contact | None = None
    how: str = ""  # "email", "phone", "external_id", "fuzzy" or "" for no match
    probability: float = 0.0
    # The lead's email is a placeholder (test@test.com) already on an unrelated contact: it is
    # dropped rather than gluing two people together.
    drop_email: bool = False
    # Grey-zone candidates: (contact id, probability, levels) to queue for review.
    review: list[tuple[int, float, list[int]]] = field(default_factory=list)
    # The lead as the matcher saw it, and its blocking keys when it was looked up fuzzily: a
    # new contact made of exactly this lead is indexed under the same keys.
    person: Person | None = None
    keys: list[str] | None = None


def person_from_lead(lead) -> Person:
    return Person.from_contact_values(lead.contact, email=lead.email, company=lead.company_name, domain=lead.company_domain)


class FuzzyMatcher:
    update_at = UPDATE_AT
    review_at = REVIEW_AT

    def match_leads(self, leads: Sequence) -> list[LeadMatch]:
        people = [person_from_lead(lead) for lead in leads]
        results = [LeadMatch(person=person) for person in people]
        # Position → id of the contact the lead is; read whole in one query at the end.
        chosen: dict[int, int] = {}
        self._match_exact(leads, people, results, chosen)
        open_positions = [i for i in range(len(leads)) if i not in chosen]
        if open_positions:
            self._match_fuzzy([people[i] for i in open_positions], [results[i] for i in open_positions], open_positions, chosen)
        if chosen:
            contacts = contacts_by_ids(chosen.values())
            for position, contact_id in chosen.items():
                result = results[position]
                if contact_id not in contacts:  # removed since it was found (merged meanwhile)
                    result.how, result.probability = "", 0.0
                    continue
                result.contact = contacts[contact_id]
                result.review = [r for r in result.review if r[0] != contact_id]
        return results

    def match(self, leads: Sequence) -> dict[str, Contact]:
        """The older seam's shape: matched contacts keyed by the lead's email."""
        return {lead.email: m.contact for lead, m in zip(leads, self.match_leads(leads)) if m.contact and lead.email}

    # ------------------------------------------------------------------ exact keys

    def _match_exact(self, leads, people: list[Person], results: list[LeadMatch], chosen: dict[int, int]) -> None:
        emails = {lead.email for lead in leads if lead.email}
        phones = {lead.contact["phone"] for lead, p in zip(leads, people) if p.phone and lead.contact.get("phone")}
        external = {lead.contact["external_id"] for lead, p in zip(leads, people) if p.external_id}
        if not (emails or phones or external):
            return
        found = contact_keys_by_values(emails=emails, phones=phones, external_ids=external, limit=20 * len(leads) + 100)
        by_email = {c.email: c for c in found if c.email}
        by_phone: dict[str, list[StoredKeys]] = {}
        by_external: dict[str, list[StoredKeys]] = {}
        for contact in found:
            if contact.phone in phones:
                by_phone.setdefault(contact.phone, []).append(contact)
            if contact.external_id in external:
                by_external.setdefault(contact.external_id, []).append(contact)
        for position, (lead, person, result) in enumerate(zip(leads, people, results)):
            if lead.email in by_email:
                if person.email:
                    chosen[position], result.how, result.probability = by_email[lead.email].pk, "email", 1.0
                    continue
                # A stop-value address: evidence only when the names say the same person.
                owner = by_email[lead.email]
                if person.first and person.last and _names_agree(person, owner) and person.last == clean_text(owner.last_name):
                    chosen[position], result.how, result.probability = owner.pk, "email", 1.0
                    continue
                result.drop_email = True
            for how, index, value in (
                ("phone", by_phone, lead.contact.get("phone")),
                ("external_id", by_external, lead.contact.get("external_id")),
            ):
                owners = index.get(value or "", [])
                # A number or id shared by several contacts (a switchboard) is not a key.
                if len(owners) == 1 and _names_agree(person, owners[0]):
                    chosen[position], result.how, result.probability = owners[0].pk, how, 1.0
                    break

    # ------------------------------------------------------------------ fuzzy

    def _match_fuzzy(self, people: list[Person], results: list[LeadMatch], positions: list[int], chosen: dict[int, int]) -> None:
        keys_per_lead = [blocking_keys(person) for person in people]
        for result, keys in zip(results, keys_per_lead):
            result.keys = keys
        wanted = {key for keys in keys_per_lead for key in keys}
        if not wanted:
            return
        # One statement: the members of every small key with their values (frequent keys skipped).
        members, order, found = candidates_by_keys(keys=sorted(wanted), max_per_key=MAX_CANDIDATES_PER_KEY)
        pairs_a, pairs_b = [], []
        for position, keys in enumerate(keys_per_lead):
            seen = set()
            for key in keys:
                for contact_id in members.get(key, ()):
                    if contact_id not in seen:
                        seen.add(contact_id)
                        pairs_a.append(position)
                        pairs_b.append(contact_id)
        if not pairs_a:
            return
        index_of = {contact_id: i for i, contact_id in enumerate(order)}
        # Only the leads that have a candidate are compared (in an import of new people, about
        # half): the columns hold those leads first, then the candidates, and ib indexes past
        # the leads. ``compared[i]`` is the position of the i-th lead in the batch.
        compared = list(dict.fromkeys(pairs_a))
        row_of = {position: i for i, position in enumerate(compared)}
        ia = np.asarray([row_of[position] for position in pairs_a], dtype=np.int64)
        ib = np.asarray([len(compared) + index_of[contact_id] for contact_id in pairs_b], dtype=np.int64)
        cols = columns_of(
            {name: [*(getattr(people[position], name) for position in compared), *values] for name, values in found.items()}
        )
        levels = compare(cols, ia, ib)
        params = current_parameters()
        probabilities = params.probabilities(levels)
        # Updating someone else's record is worse than a duplicate: without agreeing names, or
        # when both write from different work addresses, the pair goes to review however strong the rest.
        # Names that say two people (colleagues on one switchboard, or sharing a given name)
        # neither update nor queue.
        names_agree = (levels[:, _FIRST] >= 1) | (levels[:, _LAST] >= 1)
        two_people = names_contradict(cols, ia, ib, levels)
        two_work_addresses = update_needs_review(cols, ia, ib, levels)
        may_update = names_agree & ~two_work_addresses & ~two_people
        # Two people writing from their own work addresses who share nothing but names and a
        # town are namesakes as far as anyone can tell: not worth a reviewer's time either.
        reviewable = worth_review(levels, two_people=two_people, two_work_addresses=two_work_addresses)
        updates = (probabilities >= self.update_at) & may_update
        reviews = (probabilities >= self.review_at) & ~updates & reviewable
        best: dict[int, tuple[float, int]] = {}
        # Only the pairs that update or go to review, in pair order (most pairs are neither).
        for k in np.flatnonzero(updates | reviews).tolist():
            position, probability = compared[int(ia[k])], float(probabilities[k])
            contact_id = order[int(ib[k]) - len(compared)]
            if updates[k]:
                if probability > best.get(position, (0.0, 0))[0]:
                    best[position] = (probability, contact_id)
            else:
                results[position].review.append((contact_id, probability, levels[k].tolist()))
        for position, (probability, contact_id) in best.items():
            chosen[positions[position]] = contact_id
            results[position].how, results[position].probability = "fuzzy", probability


def _names_agree(person: Person, contact: StoredKeys) -> bool:
    theirs = clean_text(contact.first_name)
    if not person.first or not theirs:
        return True
    return JaroWinkler.normalized_similarity(person.first, theirs) >= 0.8 or person.first[0] == theirs[0] and (
        len(person.first) == 1 or len(theirs) == 1
    )


__all__ = ["FuzzyMatcher", "LeadMatch", "UPDATE_AT", "REVIEW_AT", "clean_email", "clean_identifier", "clean_phone"]
