"""Validation at save time, and what each kind of rule scores."""

from __future__ import annotations

import pytest

from accord.core.errors import ValidationFailed
from accord.scoring.services import scores_rescore, scoring_model_create
from accord.scoring.models import ContactScore

from .helpers import account, contact, engage, fit, live_model, touch

pytestmark = pytest.mark.django_db


def create(actor, rules, **settings):
    return scoring_model_create(actor=actor, name="M", rules=rules, **settings)


def test_it_rejects_an_unknown_field_naming_the_rule_and_field(marketer):
    with pytest.raises(ValidationFailed) as failed:
        create(marketer, [fit("Shoe size", "shoe_size", "in", ["44"], 5)])
    assert "rules.0.field" in failed.value.errors
    assert "rule 1 'Shoe size'" in failed.value.errors["rules.0.field"]
    assert "shoe_size" in failed.value.errors["rules.0.field"]


def test_it_rejects_an_invalid_regex(marketer):
    with pytest.raises(ValidationFailed) as failed:
        create(marketer, [fit("ok", "seniority", "in", ["vp"], 5), fit("Bad regex", "job_title", "matches", "(vp", 5)])
    assert list(failed.value.errors) == ["rules.1.value"]
    assert "not a valid regular expression" in failed.value.errors["rules.1.value"]


def test_it_rejects_overlapping_grade_bands_and_thresholds_out_of_range(marketer):
    with pytest.raises(ValidationFailed) as failed:
        create(marketer, [], grade_bands={"A": 40, "B": 50, "C": 10}, mql_min_score=-5, mql_min_grade="E")
    errors = failed.value.errors
    assert "overlap" in errors["grade_bands.B"]
    assert "out of range" in errors["mql_min_score"]
    assert "mql_min_grade" in errors


def test_it_rejects_bad_engagement_and_negative_rules(marketer):
    with pytest.raises(ValidationFailed) as failed:
        create(
            marketer,
            [
                engage("Nothing", {}, 5),
                engage("Wrong type", {"kinds": ["telepathy"]}, 5),
                engage("Tiny cap", {"kinds": ["webinar"]}, 10, cap=5),
                engage("Bad half-life", {"kinds": ["webinar"]}, 10, half_life=0),
                fit("Students", "job_title", "contains", ["student"], 10, kind="negative"),
                engage("No campaign", {"campaigns": [999]}, 5),
                fit("Size", "employee_count", "between", [500, 10], 5),
            ],
        )
    errors = failed.value.errors
    assert "at least one condition" in errors["rules.0.value"]
    assert "telepathy" in errors["rules.1.value"]
    assert "cap 5" in errors["rules.2.cap"]
    assert "half-life" in errors["rules.3.half_life_days"]
    assert "negative rule" in errors["rules.4.points"]
    assert "no campaign with id 999" in errors["rules.5.value"]
    assert "above maximum" in errors["rules.6.value"]


def breakdown_of(person) -> dict[str, int]:
    return {item["label"]: item["points"] for item in ContactScore.objects.get(contact=person).breakdown}


def test_each_profile_rule_type_scores_what_it_says(marketer):
    big = account(industry="Software", employee_count=800, annual_revenue=5_000_000, country="DE")
    small = account(industry="Retail", employee_count=5, country="US", domain="rival.com")
    live_model(
        marketer,
        [
            fit("Ops titles", "job_title", "contains", ["operations", "ops"], 5),
            fit("VP or chief", "job_title", "matches", r"^(vp|chief)\b", 7),
            fit("Senior people", "seniority", "in", ["vp", "c_level"], 11),
            fit("Software", "industry", "in", ["software", "saas"], 13),
            fit("Mid-size", "employee_count", "between", [100, 1000], 17),
            fit("Revenue 1M+", "annual_revenue", "between", [1_000_000, None], 19),
            fit("DACH", "country", "in", ["DE", "AT", "CH"], 23),
            fit("Business mail", "email_domain_type", "is", "business", 29),
            fit("Competitor", "email_domain", "in", ["rival.com"], -50, kind="negative"),
            fit("Free mail", "email_domain_type", "is", "free", -3, kind="negative"),
            fit("Student", "email_domain_type", "is", "education", -31, kind="negative"),
            fit("Unsubscribed", "do_not_contact", "is", True, -37, kind="negative"),
        ],
    )
    ideal = contact(email="vp@bigco.com", job_title="VP Operations", seniority="vp", account=big)
    rival = contact(email="x@rival.com", job_title="Engineer", account=small)
    student = contact(email="kid@uni.edu", job_title="Student", do_not_contact=True)
    free = contact(email="joe@gmail.com", country="AT")
    scores_rescore()
    assert breakdown_of(ideal) == {
        "Ops titles": 5, "VP or chief": 7, "Senior people": 11, "Software": 13, "Mid-size": 17,
        "Revenue 1M+": 19, "DACH": 23, "Business mail": 29,
    }
    assert breakdown_of(rival) == {"Business mail": 29, "Competitor": -50}
    assert breakdown_of(student) == {"Student": -31, "Unsubscribed": -37}
    assert breakdown_of(free) == {"DACH": 23, "Free mail": -3}
    ideal.refresh_from_db()
    assert (ideal.score, ideal.grade) == (124, "A")
    student.refresh_from_db()
    assert (student.score, student.grade) == (-68, "D")


def test_engagement_rules_filter_by_type_channel_campaign_and_url_and_stop_at_the_cap(marketer):
    from accord.campaigns.models import Campaign
    from accord.core.clock import now

    moment = now()
    webinar = Campaign.objects.create(name="Webinar", channel="webinar", created_at=moment, updated_at=moment)
    live_model(
        marketer,
        [
            engage("Pricing page", {"kinds": ["page_visit"], "url": "*/PRICING*"}, 10, cap=25),
            engage("Paid social", {"channels": ["paid_social"]}, 3),
            engage("Our webinar", {"campaigns": [webinar.pk]}, 20),
        ],
    )
    person = contact()
    for _ in range(4):
        touch(person, "page_visit", url="https://x.test/pricing?plan=pro")
    touch(person, "page_visit", url="https://x.test/blog")
    touch(person, "ad_click", channel="paid_social")
    touch(person, "webinar", campaign=webinar)
    scores_rescore()
    assert breakdown_of(person) == {"Pricing page": 25, "Paid social": 3, "Our webinar": 20}
    events = {item["label"]: item["events"] for item in ContactScore.objects.get(contact=person).breakdown}
    assert events == {"Pricing page": 4, "Paid social": 1, "Our webinar": 1}


def test_decay_halves_an_events_points_every_half_life(marketer):
    live_model(marketer, [engage("Visits", {"kinds": ["page_visit"]}, 40, half_life=10)])
    person = contact()
    touch(person, days_ago=0)
    touch(person, days_ago=10)
    touch(person, days_ago=20)
    scores_rescore()
    assert breakdown_of(person) == {"Visits": 40 + 20 + 10}


def test_very_old_events_decay_to_nothing_without_an_error(marketer):
    live_model(marketer, [engage("Visits", {"kinds": ["page_visit"]}, 40, half_life=0.5)])
    person = contact()
    touch(person, days_ago=3000)
    touch(person, days_ago=0)
    scores_rescore()
    assert breakdown_of(person) == {"Visits": 40}
