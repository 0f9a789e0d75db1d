from __future__ import annotations

import sys
import types
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.models import Role, User
from accord.crm.lifecycle import check_move
from accord.crm.models import Account, Contact, Opportunity, StageChange
from accord.dedup.demo import RETURNING_PEOPLE
from accord.dedup.models import Suggestion
from accord.integrations.demo_company import demo_now

pytestmark = pytest.mark.django_db(transaction=False)

SIZE = 300


def load(*args) -> str:
    out = StringIO()
    call_command("demo", "--contacts", str(SIZE), "--seed", "7", *args, stdout=out)
    return out.getvalue()


def fingerprint():
    return (
        sorted(
            Contact.objects.filter(created_at__lte=demo_now()).values_list(
                "email", "first_name", "lifecycle_stage", "owner__username", "account__name",
                "first_touch_campaign__name", "created_at", "phone",
            )
        ),
        # People who sign up again (dedup's demo) are captured at the real time of the load.
        sorted(Contact.objects.filter(created_at__gt=demo_now()).values_list("email", "first_name", "last_name")),
        sorted(Counter(Touchpoint.objects.values_list("kind", "team", "campaign__name")).items(), key=str),
        sorted(Opportunity.objects.values_list("primary_contact__email", "stage", "amount", "currency", "lost_reason")),
        # The company's own history; moves other apps' demo hooks make as they act (a scoring
        # model going live, handoffs opening) happen at the real time of the load.
        sorted(
            StageChange.objects.filter(changed_at__lte=demo_now()).values_list(
                "contact__email", "from_stage", "to_stage", "changed_at", "reason"
            )
        ),
        sorted(Campaign.objects.values_list("name", "channel", "budget", "actual_cost", "start_date")),
    )


def test_the_demo_company_is_complete_and_prints_the_login():
    out = load()
    assert "Sign in at http://127.0.0.1:8000/ as manager with password accord-demo" in out

    # The company's people, and a few of them signing up again (dedup's demo): matched ones
    # update their record, the rest become new records waiting in the review queue.
    returning = Contact.objects.count() - SIZE
    assert 0 < returning <= RETURNING_PEOPLE
    assert Suggestion.objects.filter(status="pending").count() >= returning
    assert f"{RETURNING_PEOPLE} people signed up again" in out
    assert SIZE // 6 <= Account.objects.count() <= SIZE // 3
    assert Campaign.objects.count() == 20
    assert len(set(Campaign.objects.values_list("channel", flat=True))) >= 8
    assert Campaign.objects.filter(actual_cost__gt=0, budget__gt=0).count() >= 15
    touchpoints = Touchpoint.objects.count()
    assert 6 * SIZE <= touchpoints <= 15 * SIZE
    assert set(Touchpoint.objects.values_list("team", flat=True)) == {"marketing", "sales"}
    kinds = set(Touchpoint.objects.values_list("kind", flat=True))
    assert {"form_submission", "page_visit", "ad_click", "email_opened", "webinar", "call", "sales_email", "meeting"} <= kinds
    stages = set(Contact.objects.values_list("lifecycle_stage", flat=True))
    assert {"lead", "mql", "sal", "customer", "recycled"} <= stages
    assert Opportunity.objects.filter(stage="won").exists()
    assert Opportunity.objects.filter(stage="lost").exclude(lost_reason="").exists()
    assert Contact.objects.exclude(interests=None).exists()
    # Every contact came through the pipeline: a first touch and a creation move, dated in the past year.
    assert not Contact.objects.filter(first_touch_at=None).exists()
    assert StageChange.objects.filter(from_stage="").count() == SIZE + returning
    for from_stage, to_stage, reason in StageChange.objects.exclude(from_stage="").values_list("from_stage", "to_stage", "reason"):
        check_move(from_stage, to_stage, reason)

    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {
        "manager": Role.MANAGER, "marketer": Role.MARKETING, "admin": Role.ADMIN,
        "sales1": Role.SALES, "sales2": Role.SALES, "sales3": Role.SALES,
    }
    assert authenticate(username="sales2", password="accord-demo") is not None


@pytest.mark.django_db(transaction=True)  # --reset empties the database with flush, which PostgreSQL refuses inside a transaction
def test_the_same_seed_gives_the_same_company():
    load()
    first = fingerprint()
    load("--reset")
    assert fingerprint() == first


def test_it_refuses_to_load_over_existing_data_unless_told():
    load()
    loaded = Contact.objects.count()
    with pytest.raises(CommandError, match="--reset"):
        load()
    out = load("--keep")
    assert "keeping it" in out and "accord-demo" in out
    assert Contact.objects.count() == loaded


def test_every_app_with_a_demo_module_adds_its_data(monkeypatch):
    calls = []
    module = types.ModuleType("accord.integrations.demo")
    module.demo_load = lambda *, seed, now, stdout: calls.append((seed, now.tzinfo is not None, Contact.objects.count()))
    monkeypatch.setitem(sys.modules, "accord.integrations.demo", module)
    load()
    # Called once, with the seed and an aware "now", after the company (and the apps before it) loaded.
    assert len(calls) == 1 and calls[0][:2] == (7, True) and calls[0][2] >= SIZE
