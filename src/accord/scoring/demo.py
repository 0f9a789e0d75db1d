"""Demo data for scoring: a sensible model, approved by the demo marketer and sales rep, live."""

from __future__ import annotations

from datetime import datetime

from accord.core.models import User
from accord.scoring.models import ScoringModel
from accord.scoring.services import (
    scoring_comment_add,
    scoring_model_approve,
    scoring_model_create,
    scoring_model_propose,
)

DEMO_RULES = [
    {"kind": "fit", "label": "Decision makers", "field": "seniority", "operator": "in", "value": ["director", "vp", "c_level", "owner"], "points": 20},
    {"kind": "fit", "label": "Managers", "field": "seniority", "operator": "in", "value": ["manager"], "points": 10},
    {"kind": "fit", "label": "Revenue, marketing and ops titles", "field": "job_title", "operator": "matches",
     "value": r"revenue|marketing|sales|operations|growth", "points": 8},
    {"kind": "fit", "label": "Core industries", "field": "industry", "operator": "in",
     "value": ["software", "financial services", "professional services"], "points": 12},
    {"kind": "fit", "label": "Mid-market and up", "field": "employee_count", "operator": "between", "value": [200, None], "points": 10},
    {"kind": "fit", "label": "Core markets", "field": "country", "operator": "in", "value": ["US", "GB", "DE"], "points": 5},
    {"kind": "fit", "label": "Business address", "field": "email_domain_type", "operator": "is", "value": "business", "points": 5},
    {"kind": "negative", "label": "Free-mail address", "field": "email_domain_type", "operator": "is", "value": "free", "points": -10},
    {"kind": "negative", "label": "Students", "field": "job_title", "operator": "contains", "value": ["student", "intern"], "points": -30},
    {"kind": "negative", "label": "Unsubscribed", "field": "do_not_contact", "operator": "is", "value": True, "points": -40},
    {"kind": "engagement", "label": "Pricing or demo page", "value": {"kinds": ["page_visit"], "url": "*/pricing*"}, "points": 10, "cap": 30, "half_life_days": 30},
    {"kind": "engagement", "label": "Demo request page", "value": {"url": "*/demo*"}, "points": 15, "cap": 30, "half_life_days": 30},
    {"kind": "engagement", "label": "Form submissions", "value": {"kinds": ["form_submission"]}, "points": 15, "cap": 30, "half_life_days": 60},
    {"kind": "engagement", "label": "Webinars and events", "value": {"kinds": ["webinar", "event"]}, "points": 10, "cap": 30, "half_life_days": 90},
    {"kind": "engagement", "label": "Email clicks", "value": {"kinds": ["email_clicked"]}, "points": 3, "cap": 12, "half_life_days": 30},
    {"kind": "engagement", "label": "Any page visit", "value": {"kinds": ["page_visit"]}, "points": 1, "cap": 10, "half_life_days": 14},
]


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    if ScoringModel.objects.exists():
        stdout.write("    scoring: a model already exists; leaving it.")
        return
    users = {u.username: u for u in User.objects.filter(username__in=["marketer", "sales1", "admin", "manager"])}
    author = users.get("marketer") or users.get("admin") or users.get("manager") or User.objects.order_by("id").first()
    if author is None:
        stdout.write("    scoring: no users to own a model; skipped.")
        return
    model = scoring_model_create(
        actor=author,
        name="Lead score",
        description="Ideal customer profile (fit, graded A–D) plus recent engagement; MQL at grade B and 50 points.",
        rules=DEMO_RULES,
        grade_bands={"A": 45, "B": 30, "C": 15},
        mql_min_grade="B",
        mql_min_score=50,
    )
    scoring_model_propose(model=model, actor=author)
    scoring_comment_add(model=model, actor=author, body="First version agreed in the pipeline meeting.")
    marketer, sales = users.get("marketer"), users.get("sales1")
    if marketer is None or sales is None:
        stdout.write(f"    scoring: {model} proposed; it needs a Marketing and a Sales approval to go live.")
        return
    scoring_model_approve(model=model, actor=marketer)
    outcome = scoring_model_approve(model=model, actor=sales)
    summary = outcome.rescore
    stdout.write(
        f"    scoring: {model} live (approved by marketer and sales1); {summary.scored:,} contacts scored, "
        f"{len(summary.moved_to_mql):,} crossed the MQL line."
    )
