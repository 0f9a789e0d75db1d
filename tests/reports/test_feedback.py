"""Lead quality by source and campaign; customer-mix drift flags."""

from __future__ import annotations

from datetime import date

import pytest

from accord.reports.providers import register_icp_provider
from accord.reports.queries import Period, customer_mix_drift, lead_quality, title_function, total_variation
from accord.reports.services import snapshots_refresh

from . import factories as f

pytestmark = pytest.mark.django_db
MARCH = Period(date(2026, 3, 1), date(2026, 3, 1))


def test_lead_quality_counts_acceptance_rejection_reasons_and_conversion():
    webinar = f.campaign("Webinar", channel="webinar")
    f.contact(stages=(("lead", 0), ("mql", 1), ("sal", 2), ("sql", 3), ("opportunity", 4)), source="webinar", first_campaign=webinar)
    f.contact(stages=(("lead", 0), ("mql", 1), ("recycled", 2)), source="webinar", first_campaign=webinar)
    f.contact(stages=(("lead", 0), ("mql", 1), ("disqualified", 2)), source="paid_search")
    f.contact(stages=(("lead", 0), ("mql", 1), ("sal", 2)), source="paid_search")
    f.contact(stages=(("lead", 0), ("mql", -40), ("recycled", 2)), source="paid_search")  # a January MQL
    snapshots_refresh()
    report = lead_quality(period=MARCH, by="source")
    rows = {row["key"]: row for row in report["rows"]}
    assert rows["webinar"]["mqls"] == 2
    assert rows["webinar"]["accepted"] == 1 and rows["webinar"]["rejected"] == 1
    assert rows["webinar"]["conversion_rate"] == pytest.approx(0.5)
    assert rows["paid_search"]["acceptance_rate"] == pytest.approx(0.5)
    assert dict(report["reasons"]) == {"test": 2}  # the factory's reason on every move
    by_campaign = {row["label"]: row for row in lead_quality(period=MARCH, by="campaign")["rows"]}
    assert by_campaign["Webinar"]["mqls"] == 2 and by_campaign["No campaign"]["mqls"] == 2


def test_job_titles_are_grouped_into_functions():
    assert title_function("VP Marketing") == "marketing"
    assert title_function("Chief Executive") == "executive"
    assert title_function("Senior Software Engineer") == "engineering"
    assert title_function("") == "unknown"
    assert title_function("Florist") == "other"


def test_total_variation_distance():
    assert total_variation({"a": 1.0}, {"b": 1.0}) == 1.0
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0.0
    assert total_variation({"a": 0.7, "b": 0.3}, {"a": 0.5, "b": 0.5}) == pytest.approx(0.2)


def _won(industry, employees, title, day):
    company = f.account(employees=employees, industry=industry)
    person = f.contact(account=company, title=title)
    f.opportunity(contact=person, account=company, stage="won", created=day - 5, closed=day)


def test_a_large_shift_in_who_buys_is_flagged_and_a_small_one_is_not():
    # February: software mid-market buyers in marketing; March: retail small businesses.
    for _ in range(6):
        _won("Software", 300, "Head of Marketing", -10)
    for _ in range(5):
        _won("Retail", 20, "Head of Marketing", 10)
    _won("Software", 300, "Head of Marketing", 10)
    drift = customer_mix_drift(period=MARCH)
    dims = {d["dimension"]: d for d in drift["dimensions"]}
    assert dims["industry"]["vs_previous"] == pytest.approx(5 / 6)
    assert dims["industry"]["flag_previous"] and dims["size"]["flag_previous"]
    assert not dims["title"]["flag_previous"]
    assert any("Industry" in w for w in drift["warnings"])
    assert not drift["icp_defined"] and dims["industry"]["vs_icp"] is None


def test_drift_against_the_ideal_customer_profile_uses_a_registered_profile():
    for _ in range(6):
        _won("Retail", 20, "Owner", 10)
    scoring_profile = register_icp_provider(lambda: {"industry": {"software": 0.8, "retail": 0.2}})
    try:
        drift = customer_mix_drift(period=MARCH)
    finally:
        register_icp_provider(scoring_profile)
    industry = drift["dimensions"][0]
    assert industry["vs_icp"] == pytest.approx(0.8) and industry["flag_icp"]
    assert industry["chi_square_vs_icp"] == pytest.approx((0 - 4.8) ** 2 / 4.8 + (6 - 1.2) ** 2 / 1.2)
    # Too few customers in the previous period: not judged, not flagged.
    assert industry["vs_previous"] is None and not industry["flag_previous"]
