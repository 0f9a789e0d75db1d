"""Records for the page tests, made through the services the app itself uses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.campaigns.services import campaign_create, touchpoint_log
from accord.core.clock import now
from accord.core.models import Team
from accord.crm.services import ContactFields, account_create, contact_create, opportunity_create
from tests.conftest import PASSWORD


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def campaign(marketer):
    return campaign_create(
        values={"name": "Spring webinar", "channel": "webinar", "utm_campaign": "spring", "actual_cost": Decimal("1000")},
        actor=marketer,
    )


@pytest.fixture
def account(rep):
    return account_create(values={"name": "Acme Corp", "domain": "acme.test", "industry": "Software", "owner": rep})


@pytest.fixture
def contact(account, rep, marketer, campaign):
    """Ana at Acme, brought by the webinar, touched by both teams."""
    person = contact_create(
        fields=ContactFields(
            values={"first_name": "Ana", "last_name": "Lopez", "email": "ana@acme.test", "account": account, "owner": rep},
            interests=("sso",),
        ),
        actor=marketer,
    )
    moment = now()
    person.first_touch_campaign = campaign
    person.first_touch_at = moment - timedelta(days=3)
    person.save(update_fields=["first_touch_campaign", "first_touch_at"])
    Touchpoint.objects.create(
        contact=person, campaign=campaign, kind=TouchpointKind.WEBINAR, team=Team.MARKETING, actor=marketer,
        occurred_at=moment - timedelta(days=3), subject="Attended the spring webinar", created_at=moment,
    )
    touchpoint_log(contact=person, kind="call", actor=rep, subject="Discovery call", body="Wants SSO")
    return person


@pytest.fixture
def deal(contact, rep):
    return opportunity_create(
        values={"name": "Acme platform", "primary_contact": contact, "owner": rep, "amount": Decimal("5000"), "stage": "proposal"},
        actor=rep,
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Page tests sign in often; the production hasher's deliberate slowness adds nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
