"""The capture pipeline hands leads that reach MQL to Sales at once."""

from __future__ import annotations

from accord.handoff.models import Handoff
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture


def test_a_captured_mql_is_routed_with_its_clock_started(policy, round_robin, marketer):
    lead = lead_from_mapping({"email": "ready@buyer.test", "first_name": "Rae", "lifecycle_stage": "mql"}, default_region="US")
    outcome = contact_capture(lead=lead, actor=marketer)
    handoff = Handoff.objects.get(contact=outcome.contact)
    assert handoff.is_open and handoff.owner is not None and handoff.due_at is not None
    # Capturing the same person again does not open a second handoff.
    contact_capture(lead=lead_from_mapping({"email": "ready@buyer.test", "lifecycle_stage": "mql"}, default_region="US"), actor=marketer)
    assert Handoff.objects.filter(contact=outcome.contact).count() == 1
