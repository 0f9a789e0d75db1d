from __future__ import annotations

from decimal import Decimal

import pytest

from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import ALLOWED_MOVES, MAIN_LINE, Stage, check_move, MoveRefused
from accord.crm.models import Contact, StageChange
from accord.crm.services import ContactFields, contact_change_stage, contact_create, opportunity_create, opportunity_update


def test_every_stage_has_a_row_in_the_one_table_of_moves():
    assert set(ALLOWED_MOVES) == set(Stage.values)


@pytest.mark.parametrize("source,target", [(a, b) for i, a in enumerate(MAIN_LINE) for b in MAIN_LINE[i + 1 :]])
def test_forward_moves_on_the_main_line_need_no_reason(source, target):
    check_move(source, target, "")


@pytest.mark.parametrize("source,target", [("mql", "lead"), ("sql", "recycled"), ("lead", "disqualified"), ("disqualified", "lead")])
def test_backward_and_exit_moves_need_a_reason(source, target):
    with pytest.raises(MoveRefused, match="needs a reason"):
        check_move(source, target, "  ")
    check_move(source, target, "not ready until Q3")


@pytest.mark.parametrize("source,target", [("customer", "recycled"), ("customer", "disqualified"), ("disqualified", "customer")])
def test_it_refuses_moves_the_lifecycle_does_not_allow(source, target):
    with pytest.raises(MoveRefused, match="cannot move"):
        check_move(source, target, "because")


def test_it_refuses_an_unknown_stage():
    with pytest.raises(MoveRefused, match="not a lifecycle stage"):
        check_move("lead", "hot", "")


@pytest.mark.django_db
def test_a_move_writes_who_when_from_to_and_why(rep):
    contact = contact_create(fields=ContactFields({"email": "ann@acme.com"}))
    contact_change_stage(contact=contact, to_stage=Stage.SQL, actor=rep)
    contact_change_stage(contact=contact, to_stage=Stage.RECYCLED, actor=rep, reason="no budget this year")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == Stage.RECYCLED
    last = StageChange.objects.filter(contact=contact).order_by("-id").first()
    assert (last.from_stage, last.to_stage, last.changed_by, last.reason) == ("sql", "recycled", rep, "no budget this year")


@pytest.mark.django_db
def test_a_refused_move_changes_nothing(rep):
    contact = contact_create(fields=ContactFields({"email": "bo@acme.com"}), stage=Stage.MQL)
    with pytest.raises(ValidationFailed) as refused:
        contact_change_stage(contact=contact, to_stage=Stage.LEAD, actor=rep)
    assert "lifecycle_stage" in refused.value.errors
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == Stage.MQL
    assert StageChange.objects.filter(contact=contact).count() == 1


@pytest.mark.django_db
def test_opening_and_winning_a_deal_moves_its_contact_forward(rep):
    contact = contact_create(fields=ContactFields({"email": "cy@acme.com"}), stage=Stage.SQL)
    deal = opportunity_create(values={"name": "Acme rollout", "primary_contact": contact, "amount": Decimal("1200"), "owner": rep}, actor=rep)
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == Stage.OPPORTUNITY
    opportunity_update(opportunity=deal, values={"stage": "won"}, actor=rep)
    deal.refresh_from_db()
    assert deal.closed_at is not None and deal.close_date is not None
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == Stage.CUSTOMER
