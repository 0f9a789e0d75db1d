"""Where the pipeline asks "do we already know this person?".

The default matcher compares normalized email addresses exactly. Fuzzy matching plugs in here
by providing another ContactMatcher; the pipeline does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from accord.crm.models import Contact
from accord.intake.leads import LeadInput


class ContactMatcher(Protocol):
    def match(self, leads: Sequence[LeadInput]) -> dict[str, Contact]:
        """Existing contacts for the given leads, keyed by the lead's normalized email."""


class ExactEmailMatcher:
    def match(self, leads: Sequence[LeadInput]) -> dict[str, Contact]:
        emails = {lead.email for lead in leads if lead.email}
        if not emails:
            return {}
        return {contact.email: contact for contact in Contact.objects.filter(email__in=emails).exclude(email="")}


def get_matcher() -> ContactMatcher:
    return ExactEmailMatcher()
