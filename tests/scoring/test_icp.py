"""The live model's fit rules are the ideal customer profile the reports measure drift against."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.core.clock import now
from accord.crm.models import Opportunity
from accord.reports.providers import icp_profile
from accord.reports.queries import Period, customer_mix_drift
from accord.scoring.queries import ideal_customer_profile

from .helpers import account, contact, fit, live_model, quick_user

pytestmark = pytest.mark.django_db

RULES = [
    fit("Core industries", "industry", "in", ["Software", "Financial services"], 20),
    fit("Fintech first", "industry", "in", ["financial services"], 10),
    fit("Mid-market and up", "employee_count", "between", [200, None], 10),
    fit("Revenue titles", "job_title", "matches", r"marketing|sales|(vp|head) of growth", 8),
    fit("Students", "job_title", "contains", ["student"], -30, kind="negative"),
    fit("Core markets", "country", "in", ["US"], 5),
]


def test_without_a_live_model_there_is_no_profile_and_drift_says_so():
    assert ideal_customer_profile() is None
    assert icp_profile() is None


def test_positive_fit_rules_become_expected_shares_per_dimension():
    live_model(quick_user("marketing"), RULES)

    profile = ideal_customer_profile()

    # Financial services is targeted by two rules (20 + 10 points) against software's 20.
    assert profile["industry"] == pytest.approx({"financial services": 0.6, "software": 0.4})
    # 200 employees and up reaches into the mid-market band and covers enterprise.
    assert profile["size"] == pytest.approx({"midmarket": 0.5, "enterprise": 0.5})
    # The pattern's alternatives map to the reports' job functions; negative rules add nothing.
    assert profile["title"] == pytest.approx({"marketing": 0.5, "sales": 0.5})
    assert set(profile) == {"industry", "size", "title"}


def test_drift_report_compares_won_customers_with_the_live_models_profile():
    live_model(quick_user("marketing"), RULES)
    closed = now() - timedelta(days=1)
    for _ in range(6):  # every won customer is a small retailer: far from the profile
        company = account(industry="Retail", employee_count=20)
        buyer = contact(account=company, job_title="Store Owner")
        Opportunity.objects.create(
            name="Deal", account=company, primary_contact=buyer, amount=1000, stage="won",
            created_at=closed, updated_at=closed, closed_at=closed, close_date=closed.date(),
        )
    month = closed.date().replace(day=1)

    drift = customer_mix_drift(period=Period(month, month))

    assert drift["icp_defined"]
    industry = {d["dimension"]: d for d in drift["dimensions"]}["industry"]
    assert industry["vs_icp"] == pytest.approx(1.0) and industry["flag_icp"]
    assert any("ideal customer profile" in warning for warning in drift["warnings"])
