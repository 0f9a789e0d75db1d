"""Small builders for outreach tests."""

from __future__ import annotations

from datetime import timedelta

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.models import Team
from accord.crm.models import Contact, ContactInterest


def make_contact(email: str, **fields) -> Contact:
    moment = now()
    values = {"first_name": email.split("@")[0].capitalize(), "created_at": moment, "updated_at": moment}
    values.update(fields)
    return Contact.objects.create(email=email, **values)


def touch(contact: Contact, kind: str, team: str, *, days_ago: float = 1, **fields) -> Touchpoint:
    moment = now() - timedelta(days=days_ago)
    return Touchpoint.objects.create(
        contact=contact, kind=kind, team=team, occurred_at=moment, created_at=moment, **fields
    )


def interest(contact: Contact, name: str) -> None:
    ContactInterest.objects.create(contact=contact, name=name, added_at=now())
