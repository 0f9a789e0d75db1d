"""The demo hook leaves handoffs in every state for a first look at the pages."""

from __future__ import annotations

import io

from accord.core.clock import now
from accord.core.models import Role
from accord.handoff.demo import demo_load
from accord.handoff.models import Handoff, SlaPolicy
from tests.conftest import make_user
from tests.handoff.conftest import make_contact


def test_the_demo_loads_policies_rules_and_handoffs_in_every_state(db):
    make_user(Role.MANAGER, username="boss")
    for name in ("sam", "priya", "lukas"):
        make_user(Role.SALES, username=name)
    for i in range(120):
        make_contact(email=f"demo{i}@x.test", country="DE" if i % 4 == 0 else "US", grade="A" if i % 10 == 0 else "B")
    out = io.StringIO()
    demo_load(seed=1, now=now(), stdout=out)
    statuses = set(Handoff.objects.values_list("status", flat=True))
    assert statuses == {"open", "accepted", "rejected", "recycled"}
    assert Handoff.objects.filter(breached=True).exists()
    assert SlaPolicy.objects.filter(kind="commitment").exists()
    assert "handoffs" in out.getvalue()
