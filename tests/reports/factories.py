"""Small builders for report tests: records with times chosen by the test."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from accord.campaigns.models import Campaign, Touchpoint
from accord.crm.models import Account, Contact, Opportunity, StageChange

_n = itertools.count(1)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def campaign(name: str, *, channel: str = "email", cost=None, currency: str = "USD", start=None, end=None) -> Campaign:
    return Campaign.objects.create(
        name=name,
        channel=channel,
        actual_cost=None if cost is None else Decimal(str(cost)),
        currency=currency,
        start_date=start,
        end_date=end,
        created_at=T0,
        updated_at=T0,
    )


def account(name: str = "", *, employees=None, industry: str = "") -> Account:
    name = name or f"Company {next(_n)}"
    return Account.objects.create(name=name, employee_count=employees, industry=industry, created_at=T0, updated_at=T0)


def contact(*, stages=(("lead", 0),), account=None, title: str = "", source: str = "", first_campaign=None) -> Contact:
    """``stages``: (stage, day) pairs in order; the first one creates the contact."""
    number = next(_n)
    first_stage, first_day = stages[0]
    person = Contact.objects.create(
        email=f"person{number}@example.test",
        first_name="Person",
        last_name=str(number),
        account=account,
        job_title=title,
        lifecycle_stage=stages[-1][0],
        first_touch_channel=source,
        first_touch_campaign=first_campaign,
        created_at=at(first_day),
        updated_at=at(first_day),
    )
    previous = ""
    for stage, day in stages:
        StageChange.objects.create(
            contact=person, from_stage=previous, to_stage=stage, changed_at=at(day), reason="test", source="manual"
        )
        previous = stage
    return person


def touch(person: Contact, day: float, *, campaign=None, channel: str = "", kind: str = "form_submission", team="marketing"):
    return Touchpoint.objects.create(
        contact=person,
        campaign=campaign,
        channel=channel or (campaign.channel if campaign else ""),
        kind=kind,
        team=team,
        occurred_at=at(day),
        created_at=at(day),
    )


def opportunity(*, contact=None, account=None, amount=1000, currency="USD", stage="prospecting", created=0, closed=None):
    return Opportunity.objects.create(
        name=f"Deal {next(_n)}",
        account=account,
        primary_contact=contact,
        amount=Decimal(str(amount)),
        currency=currency,
        stage=stage,
        created_at=at(created),
        updated_at=at(created),
        closed_at=None if closed is None else at(closed),
    )
