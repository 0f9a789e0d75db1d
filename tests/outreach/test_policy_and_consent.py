"""The contact policy counts both teams, pauses during a sales cycle and respects consent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.campaigns.models import TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, Opportunity
from accord.outreach.models import ConsentEvent, ContactPolicy, SubscriptionTopic
from accord.outreach.policy import Verdict, audience_classify
from accord.outreach.segments import segment_contacts, segment_definition_clean
from accord.outreach.services import (
    contact_suppress,
    contact_unsuppress,
    promotion_allow,
    topic_opt_out,
)

from .factories import interest, make_contact, touch

pytestmark = pytest.mark.django_db


def decide(contact, *, promotional=True, topic_id=None, policy=None):
    [decision] = audience_classify(
        contacts=Contact.objects.filter(pk=contact.pk), promotional=promotional, topic_id=topic_id, policy=policy
    )
    return decision


def test_a_rep_call_and_a_marketing_email_together_reach_the_cap():
    contact = make_contact("ana@acme.test")
    touch(contact, TouchpointKind.EMAIL_SENT, Team.MARKETING, days_ago=2)
    assert decide(contact).verdict == Verdict.SEND
    touch(contact, TouchpointKind.CALL, Team.SALES, days_ago=1)

    decision = decide(contact)

    assert decision.verdict == Verdict.HELD
    assert decision.code == "frequency"
    assert "2 times in 7 days" in decision.reason
    # Held until the older of the two leaves the 7-day window, not dropped.
    assert timedelta(days=4, hours=23) < decision.retry_at - now() < timedelta(days=5, hours=1)


def test_sales_touches_can_be_left_out_of_the_cap_by_policy():
    contact = make_contact("ben@acme.test")
    touch(contact, TouchpointKind.EMAIL_SENT, Team.MARKETING, days_ago=2)
    touch(contact, TouchpointKind.SALES_EMAIL, Team.SALES, days_ago=1)
    policy = ContactPolicy(max_promotions=2, window_days=7, count_sales_touches=False, updated_at=now())

    assert decide(contact, policy=policy).verdict == Verdict.SEND


def test_touches_older_than_the_window_do_not_count():
    contact = make_contact("cy@acme.test")
    touch(contact, TouchpointKind.EMAIL_SENT, Team.MARKETING, days_ago=8)
    touch(contact, TouchpointKind.CALL, Team.SALES, days_ago=9)

    assert decide(contact).verdict == Verdict.SEND


def test_no_promotion_within_quiet_days_of_a_sales_meeting_past_or_planned():
    past = make_contact("dee@acme.test")
    touch(past, TouchpointKind.MEETING, Team.SALES, days_ago=1)
    planned = make_contact("eve@acme.test")
    touch(planned, TouchpointKind.MEETING, Team.SALES, days_ago=-2)

    for contact in (past, planned):
        decision = decide(contact)
        assert decision.verdict == Verdict.HELD
        assert decision.code == "meeting"
    assert decide(past).retry_at.date() == (now() + timedelta(days=2)).date()


def test_promotions_pause_during_an_active_sales_cycle_unless_the_owner_allows(rep):
    accepted = make_contact("fay@acme.test", lifecycle_stage=Stage.SAL, owner=rep)
    in_deal = make_contact("gus@acme.test")
    Opportunity.objects.create(name="Deal", primary_contact=in_deal, amount=10, created_at=now(), updated_at=now())

    assert decide(accepted).code == "sales_cycle"
    assert decide(in_deal).code == "sales_cycle"
    # Transactional (non-promotional) mail is not paused.
    assert decide(accepted, promotional=False).verdict == Verdict.SEND

    promotion_allow(contact=accepted, actor=rep)
    assert decide(accepted).verdict == Verdict.SEND


def test_only_the_owner_or_a_manager_may_allow_promotions(rep, marketer):
    contact = make_contact("hal@acme.test", lifecycle_stage=Stage.SAL, owner=rep)
    with pytest.raises(ValidationFailed) as refused:
        promotion_allow(contact=contact, actor=marketer)
    assert "owner" in refused.value.errors["contact"]


def test_suppressed_and_opted_out_contacts_never_receive_even_transactional_mail(marketer):
    dnc = make_contact("ida@acme.test")
    contact_suppress(contact=dnc, reason="complained", actor=marketer)
    opted = make_contact("jo@acme.test")
    topic = SubscriptionTopic.objects.create(name="Events")
    topic_opt_out(contact=opted, topic=topic)
    no_email = Contact.objects.create(first_name="Kim", created_at=now(), updated_at=now())

    assert decide(dnc, promotional=False).code == "do_not_contact"
    assert decide(opted, topic_id=topic.pk).code == "topic_opt_out"
    # Opting out of one topic does not silence the others.
    other = SubscriptionTopic.objects.create(name="Product news")
    assert decide(opted, topic_id=other.pk).verdict == Verdict.SEND
    assert decide(no_email).code == "no_email"


def test_suppression_keeps_its_history_and_lifting_it_needs_a_reason(marketer, manager):
    contact = make_contact("lu@acme.test")
    assert contact_suppress(contact=contact, reason="manual", actor=marketer, note="asked on the phone")
    assert not contact_suppress(contact=contact, reason="manual", actor=marketer)
    with pytest.raises(ValidationFailed) as refused:
        contact_unsuppress(contact=contact, actor=manager, note=" ")
    assert "note" in refused.value.errors

    contact_unsuppress(contact=contact, actor=manager, note="re-subscribed at the fair")

    contact.refresh_from_db()
    assert contact.do_not_contact is False
    actions = list(ConsentEvent.objects.filter(contact=contact).values_list("action", "reason"))
    assert actions == [("lifted", ""), ("suppressed", "manual")]


def test_an_erased_contact_cannot_be_allowed_again(marketer, manager):
    contact = make_contact("max@acme.test")
    contact_suppress(contact=contact, reason="erased", actor=marketer)
    with pytest.raises(ValidationFailed):
        contact_unsuppress(contact=contact, actor=manager, note="oops")


def test_unknown_suppression_reasons_are_refused(marketer):
    with pytest.raises(ValidationFailed) as refused:
        contact_suppress(contact=make_contact("ned@acme.test"), reason="bored", actor=marketer)
    assert "reason" in refused.value.errors


def test_a_segment_built_from_sales_interest_tags_finds_exactly_those_contacts():
    sso = make_contact("ola@acme.test", score=60)
    interest(sso, "sso")
    both = make_contact("pia@acme.test", score=80)
    interest(both, "sso")
    interest(both, "fintech")
    make_contact("quin@acme.test", score=90)

    any_sso = segment_definition_clean({"interests_any": ["SSO"]})
    all_two = segment_definition_clean({"interests_all": ["sso", "fintech"], "min_score": "70"})

    assert set(segment_contacts(any_sso)) == {sso, both}
    assert list(segment_contacts(all_two)) == [both]


def test_a_segment_can_require_recent_touches():
    recent = make_contact("ray@acme.test")
    touch(recent, TouchpointKind.WEBINAR, Team.MARKETING, days_ago=3)
    old = make_contact("sue@acme.test")
    touch(old, TouchpointKind.WEBINAR, Team.MARKETING, days_ago=40)

    definition = segment_definition_clean({"touched_kinds": ["webinar"], "touched_within_days": 30})

    assert list(segment_contacts(definition)) == [recent]


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        ({"colour": ["red"]}, "definition.colour", "not a segment filter"),
        ({"stages": ["hot"]}, "definition.stages", "not a lifecycle stage"),
        ({"min_score": "lots"}, "definition.min_score", "whole number"),
        ({"min_score": 50, "max_score": 10}, "definition.max_score", "must not be below"),
        ({"grades": ["Z"]}, "definition.grades", "not a grade"),
        ({"touched_within_days": 5}, "definition.touched_within_days", "needs touched_kinds"),
        ({"countries": ["Germany"]}, "definition.countries", "two-letter"),
    ],
)
def test_bad_segment_definitions_are_refused_naming_the_filter(definition, field, words):
    with pytest.raises(ValidationFailed) as refused:
        segment_definition_clean(definition)
    assert words in refused.value.errors[field]
