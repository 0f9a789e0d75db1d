"""Routing: account owner first, territory and segment rules, weighted round-robin, capacity, away reps."""

from __future__ import annotations

import pytest
from django.db import transaction

from accord.core.errors import ValidationFailed
from accord.core.models import Role
from accord.handoff.models import RoutingMember
from accord.handoff.routing import route_contacts
from accord.handoff.services import handoffs_open_for, rep_capacity_set, routing_rule_save
from tests.conftest import make_user
from tests.handoff.conftest import make_account, make_contact


def route(contacts):
    with transaction.atomic():
        return route_contacts(contacts=contacts)


def test_the_account_owner_keeps_the_accounts_people(reps, round_robin):
    routing_rule_save(values={"name": "Account owner", "kind": "account_owner", "position": 1})
    owner = make_user(Role.SALES, username="olga")
    acme = make_account("Acme", owner=owner)
    routes = route([make_contact(email="a@acme.test", account=acme)])
    (result,) = routes.values()
    assert result.user == owner
    assert "owns the account Acme" in result.reason


def test_an_away_account_owner_is_skipped_and_the_skip_is_explained(reps, round_robin):
    routing_rule_save(values={"name": "Account owner", "kind": "account_owner", "position": 1})
    owner = make_user(Role.SALES, username="olga", is_away=True)
    acme = make_account("Acme", owner=owner)
    (result,) = route([make_contact(email="a@acme.test", account=acme)]).values()
    assert result.user in reps
    assert "Olga (away)" in result.reason


def test_territory_rules_match_by_country_then_fall_back_to_round_robin(reps, round_robin):
    dach = make_user(Role.SALES, username="dieter")
    routing_rule_save(values={"name": "DACH", "kind": "territory", "countries": ["de", "AT"], "position": 10},
                      members=[(dach.pk, 1)])
    german = make_contact(email="g@x.test", country="DE")
    via_account = make_contact(email="h@x.test", account=make_account("Wien GmbH", country="AT"))
    french = make_contact(email="f@x.test", country="FR")
    routes = route([german, via_account, french])
    assert routes[german.pk].user == dach and "DACH (country DE)" in routes[german.pk].reason
    assert routes[via_account.pk].user == dach
    assert routes[french.pk].user in reps and routes[french.pk].reason.startswith("Everyone")


def test_segment_rules_match_by_industry_and_size(reps, round_robin):
    big = make_user(Role.SALES, username="erin")
    routing_rule_save(values={"name": "Enterprise fintech", "kind": "segment", "industries": ["Fintech"],
                              "segments": ["enterprise"], "position": 10}, members=[(big.pk, 1)])
    bank = make_contact(email="cfo@bank.test", account=make_account("Bank", industry="fintech", employee_count=5000))
    startup = make_contact(email="ceo@start.test", account=make_account("Start", industry="fintech", employee_count=12))
    routes = route([bank, startup])
    assert routes[bank.pk].user == big
    assert routes[startup.pk].user in reps


def test_weighted_round_robin_is_deterministic_and_keeps_its_counters(db):
    heavy, light = make_user(Role.SALES, username="heavy"), make_user(Role.SALES, username="light")
    routing_rule_save(values={"name": "Pool", "kind": "round_robin"}, members=[(heavy.pk, 2), (light.pk, 1)])
    contacts = [make_contact(email=f"c{i}@x.test") for i in range(6)]
    first = route(contacts[:3])
    second = route(contacts[3:])  # a new call reads the stored counters
    picks = [r.user.username for r in [*first.values(), *second.values()]]
    assert picks.count("heavy") == 4 and picks.count("light") == 2
    assert picks == ["heavy", "light", "heavy", "heavy", "light", "heavy"]
    assert dict(RoutingMember.objects.values_list("user__username", "assigned")) == {"heavy": 4, "light": 2}


def test_reps_at_capacity_or_away_are_skipped(reps, round_robin, policy):
    ann, bob, cat = reps
    rep_capacity_set(user=ann, max_open=1)
    bob.is_away = True
    bob.save(update_fields=["is_away"])
    handoffs = handoffs_open_for(contacts=[make_contact(email=f"c{i}@x.test") for i in range(3)])
    owners = [h.owner.username for h in handoffs]
    assert owners == ["ann", "cat", "cat"]
    assert "Ann (at capacity, 1 open)" in handoffs[1].routing_reason
    assert "Bob (away)" in handoffs[1].routing_reason


def test_a_lead_no_rule_can_place_stays_unassigned_with_the_reason(db, policy):
    (handoff,) = handoffs_open_for(contacts=[make_contact(email="lost@x.test")])
    assert handoff.owner is None
    assert "no routing rule found an available rep" in handoff.routing_reason


def test_routing_reads_a_fixed_number_of_queries_for_any_batch(reps, round_robin, django_assert_max_num_queries):
    routing_rule_save(values={"name": "Account owner", "kind": "account_owner", "position": 1})
    routing_rule_save(values={"name": "US", "kind": "territory", "countries": ["US"], "position": 5}, members=[(reps[0].pk, 1)])
    contacts = [make_contact(email=f"c{i}@x.test", country="US" if i % 2 else "") for i in range(40)]
    with django_assert_max_num_queries(8):
        route(contacts)


@pytest.mark.parametrize(
    "values,members,field,expected",
    [
        ({"name": "T", "kind": "territory"}, [], "countries", "needs countries or regions"),
        ({"name": "S", "kind": "segment"}, [], "industries", "needs industries or segments"),
        ({"name": "R", "kind": "round_robin"}, [], "members", "at least one rep"),
        ({"name": "R", "kind": "round_robin", "countries": ["Germany"]}, [], "countries", "two-letter"),
        ({"name": "", "kind": "bogus"}, [], "kind", "use one of"),
    ],
)
def test_it_refuses_bad_routing_rules_naming_the_field(db, values, members, field, expected):
    with pytest.raises(ValidationFailed) as refused:
        routing_rule_save(values=values, members=members)
    assert expected in refused.value.errors[field]


def test_it_refuses_a_pool_member_who_does_not_work_handoffs(marketer):
    with pytest.raises(ValidationFailed) as refused:
        routing_rule_save(values={"name": "R", "kind": "round_robin"}, members=[(marketer.pk, 1)])
    assert "not active reps" in refused.value.errors["members"]
