"""Where the pipeline asks "do we already know this person?".

The matcher is duplicate detection's ``FuzzyMatcher`` (accord.dedup.matching): exact keys
first (email, phone, external id), then fuzzy candidates scored field by field. For each lead
it answers with the existing contact to update (or none) and the grey-zone pairs to queue for
review. Another matcher plugs in here by answering the same way; the pipeline does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from accord.dedup.matching import FuzzyMatcher, LeadMatch
from accord.intake.leads import LeadInput


class ContactMatcher(Protocol):
    def match_leads(self, leads: Sequence[LeadInput]) -> list[LeadMatch]:
        """One answer per lead, in order."""


def get_matcher() -> ContactMatcher:
    return FuzzyMatcher()
