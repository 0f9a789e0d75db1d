from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accord.core.models import Role
from accord.crm.lifecycle import Stage
from accord.crm.models import Account, Contact
from accord.handoff.services import routing_rule_save, sla_policy_save, work_calendar_save
from tests.conftest import make_user

ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in range(7)}


def make_contact(*, email: str, stage: str = Stage.MQL, account=None, **fields) -> Contact:
    moment = datetime.now(UTC)
    return Contact.objects.create(
        email=email, first_name=email.split("@")[0].capitalize(), lifecycle_stage=stage,
        stage_changed_at=moment, created_at=moment, updated_at=moment, account=account, **fields,
    )


def make_account(name: str, *, owner=None, **fields) -> Account:
    moment = datetime.now(UTC)
    return Account.objects.create(name=name, owner=owner, created_at=moment, updated_at=moment, **fields)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Hashing a password the production way takes a second on a busy machine; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def always_open(db):
    return work_calendar_save(values={"name": "Always", "time_zone": "UTC", "working_hours": ALWAYS_OPEN})


@pytest.fixture
def policy(always_open, manager):
    return sla_policy_save(
        values={"name": "Inbound MQLs", "calendar": always_open, "target_hours": 24, "warn_at_percent": 50,
                "followup_attempts": 3, "followup_days": 5},
        actor=manager,
    ).policy


@pytest.fixture
def reps(db):
    return [make_user(Role.SALES, username=name) for name in ("ann", "bob", "cat")]


@pytest.fixture
def round_robin(reps):
    return routing_rule_save(
        values={"name": "Everyone", "kind": "round_robin", "position": 90},
        members=[(rep.pk, 1) for rep in reps],
    )
