"""The snapshot refresh: attribution over real records, conservation, sourcing, bad input."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.management import call_command

from accord.reports.attribution import MODELS
from accord.reports.models import AttributionSnapshot, KpiSnapshot, OpportunitySourcing
from accord.reports.services import snapshots_refresh

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def now_in_march(monkeypatch):
    monkeypatch.setattr("accord.reports.services.clock_now", lambda: f.at(20))
    monkeypatch.setattr("accord.reports.queries.clock_now", lambda: f.at(20))


def _totals(model):
    sums = defaultdict(float)
    for row in AttributionSnapshot.objects.filter(model=model):
        for metric in ("leads", "mqls", "opportunities", "pipeline", "revenue"):
            sums[metric] += getattr(row, metric)
    return sums


def test_it_credits_the_account_path_and_conserves_every_total(now_in_march):
    webinar = f.campaign("Webinar", channel="webinar", cost=1000)
    ads = f.campaign("Ads", channel="paid_search", cost=500)
    acme = f.account("Acme", employees=200, industry="Software")
    alice = f.contact(account=acme, stages=(("subscriber", 0), ("lead", 2), ("mql", 5), ("sql", 6)))
    bob = f.contact(account=acme, stages=(("lead", 1),))
    f.touch(alice, 0, campaign=webinar)
    f.touch(alice, 2, campaign=ads)
    f.touch(bob, 3, channel="organic_search", kind="page_visit")  # no campaign
    f.touch(alice, 9, campaign=ads)  # after the opportunity: not on its path
    f.opportunity(contact=alice, account=acme, amount=3000, stage="won", created=8, closed=12)
    f.opportunity(contact=None, account=None, amount=700, created=8)  # nobody to credit
    f.opportunity(contact=alice, account=acme, amount=900, currency="EUR", created=8)

    run = snapshots_refresh()

    for model in MODELS:
        totals = _totals(model)
        assert totals["leads"] == pytest.approx(2)
        assert totals["mqls"] == pytest.approx(1)
        assert totals["opportunities"] == pytest.approx(3)
        assert totals["pipeline"] == pytest.approx(3700)  # the EUR deal is left out, not converted
        assert totals["revenue"] == pytest.approx(3000)
    first = {
        (row.campaign_id, row.channel): row.revenue for row in AttributionSnapshot.objects.filter(model="first_touch")
    }
    assert first[(webinar.id, "webinar")] == pytest.approx(3000)
    linear = {(r.campaign_id, r.channel): r.pipeline for r in AttributionSnapshot.objects.filter(model="linear")}
    # The won deal's path before creation: webinar, ads (Alice), organic visit (Bob, same account).
    assert linear[(webinar.id, "webinar")] == pytest.approx(1000)
    assert linear[(None, "organic_search")] == pytest.approx(1000)
    assert linear[(None, "")] == pytest.approx(700)  # the deal without contact or account
    assert run.counts["opportunities_without_contacts"] == 1
    assert run.counts["opportunities_other_currency"] == 1
    assert run.counts["touchpoints_without_campaign"] == 1
    assert run.counts["opportunities_without_touchpoints"] == 1
    sourced = dict(OpportunitySourcing.objects.values_list("opportunity__amount", "marketing_sourced"))
    assert sourced[3000] is True and sourced[700] is False


def test_an_empty_database_refreshes_without_error(now_in_march):
    run = snapshots_refresh()
    assert run.counts["touchpoints"] == 0
    assert AttributionSnapshot.objects.count() == 0
    assert KpiSnapshot.objects.filter(segment="").count() == 1  # the current month, all zeros


def test_the_command_refreshes_the_snapshots(now_in_march, capsys):
    person = f.contact(stages=(("lead", 0), ("mql", 1)))
    f.touch(person, 0, channel="email")
    call_command("reports", "refresh")
    assert AttributionSnapshot.objects.filter(model="markov").exists()
    assert "refreshed" in capsys.readouterr().out


def test_the_demo_hook_sets_targets_refreshes_and_prepares_a_digest(now_in_march, monkeypatch):
    import io

    from accord.reports.demo import demo_load
    from accord.reports.models import Digest, KpiTarget

    monkeypatch.setattr("accord.reports.digest.clock_now", lambda: f.at(20))
    person = f.contact(stages=(("lead", 0), ("mql", 1)))
    f.touch(person, 0, channel="email")
    out = io.StringIO()
    demo_load(seed=1, now=f.at(20), stdout=out)
    assert KpiTarget.objects.count() == 7
    assert KpiSnapshot.objects.exists()
    assert Digest.objects.get().sent_at is None
    assert "KPI targets" in out.getvalue()
