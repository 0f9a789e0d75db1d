"""Suggestions from outcomes: which attributes predict winning, as a logistic regression.

The population is every contact who is the primary contact of a closed deal (won = 1, lost = 0).
Features are one-hot profile attributes (seniority, industry, country, company size, free mail)
and counts of each touchpoint type before the first deal. The fit is L2-regularised logistic
regression by iteratively reweighted least squares (Newton's method), small enough to explain.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, F, Min, OuterRef, Q

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.crm.models import Contact, Opportunity, OpportunityStage
from accord.scoring.rules import email_domain_type

MIN_SUPPORT = 3
TOP_VALUES = 8
SIZE_BANDS = ((1, 49, "1–49"), (50, 199, "50–199"), (200, 999, "200–999"), (1000, None, "1000+"))


def logistic_fit(X: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50, tol: float = 1e-8) -> np.ndarray:
    """Coefficients (intercept first) minimising log-loss + l2/2·|w|² (the intercept is not penalised)."""
    n, k = X.shape
    design = np.hstack([np.ones((n, 1)), X])
    weights = np.zeros(k + 1)
    penalty = np.full(k + 1, l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        z = np.clip(design @ weights, -35, 35)
        p = 1.0 / (1.0 + np.exp(-z))
        gradient = design.T @ (p - y) + penalty * weights
        w = p * (1 - p)
        hessian = design.T @ (design * w[:, None]) + np.diag(penalty) + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < tol:
            break
    return weights


def logistic_predict(weights: np.ndarray, X: np.ndarray) -> np.ndarray:
    z = np.clip(weights[0] + X @ weights[1:], -35, 35)
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Feature:
    key: str  # "seniority=vp", "touch=webinar"
    label: str
    rule: dict  # the rule this feature becomes when proposed (points filled in later)


@dataclass
class Coefficient:
    feature: Feature
    coefficient: float
    support: int

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.coefficient)


@dataclass
class Suggestion:
    examples: int
    won: int
    coefficients: list[Coefficient]
    intercept: float
    message: str = ""


def _size_band(count) -> str:
    if count is None:
        return ""
    for low, high, label in SIZE_BANDS:
        if count >= low and (high is None or count <= high):
            return label
    return ""


def _profile_features(contact: dict) -> list[Feature]:
    features = []
    if contact["seniority"]:
        features.append(Feature(f"seniority={contact['seniority']}", f"Seniority is {contact['seniority']}",
                                {"kind": "fit", "field": "seniority", "operator": "in", "value": [contact["seniority"]]}))
    industry = (contact["account__industry"] or "").lower()
    if industry:
        features.append(Feature(f"industry={industry}", f"Industry is {industry}",
                                {"kind": "fit", "field": "industry", "operator": "in", "value": [industry]}))
    country = contact["country"] or contact["account__country"] or ""
    if country:
        features.append(Feature(f"country={country}", f"Country is {country}",
                                {"kind": "fit", "field": "country", "operator": "in", "value": [country]}))
    band = _size_band(contact["account__employee_count"])
    if band:
        low, high = next((lo, hi) for lo, hi, label in SIZE_BANDS if label == band)
        features.append(Feature(f"employees={band}", f"{band} employees",
                                {"kind": "fit", "field": "employee_count", "operator": "between", "value": [low, high]}))
    if email_domain_type(contact["email"]) == "free":
        features.append(Feature("email=free", "Free-mail address",
                                {"kind": "fit", "field": "email_domain_type", "operator": "is", "value": "free"}))
    return features


def suggestion_fit(*, l2: float = 1.0) -> Suggestion:
    """Fit won-vs-lost over the primary contacts of closed deals."""
    closed = (
        Opportunity.objects.filter(primary_contact__isnull=False, stage__in=[OpportunityStage.WON, OpportunityStage.LOST])
        .values("primary_contact_id")
        .annotate(won=Count("id", filter=Q(stage=OpportunityStage.WON)), first_at=Min("created_at"))
    )
    outcome = {row["primary_contact_id"]: (row["won"] > 0, row["first_at"]) for row in closed}
    if not outcome:
        return Suggestion(0, 0, [], 0.0, "There are no closed deals with a primary contact yet.")
    contacts = list(
        Contact.objects.filter(pk__in=outcome).values(
            "id", "seniority", "country", "email", "account__industry", "account__country", "account__employee_count"
        )
    )
    # Touchpoints by type before each contact's first deal, counted in the database.
    first_deal = Opportunity.objects.filter(primary_contact_id=OuterRef("contact_id")).order_by("created_at").values("created_at")[:1]
    counts = (
        Touchpoint.objects.filter(contact_id__in=outcome)
        .annotate(first_deal=first_deal)
        .filter(occurred_at__lt=F("first_deal"))
        .values("contact_id", "kind")
        .annotate(n=Count("id"))
    )
    touches: dict[int, Counter] = {}
    for row in counts:
        touches.setdefault(row["contact_id"], Counter())[row["kind"]] = row["n"]

    per_contact: list[tuple[list[Feature], Counter, bool]] = []
    support: Counter = Counter()
    catalogue: dict[str, Feature] = {}
    for contact in contacts:
        features = _profile_features(contact)
        for feature in features:
            support[feature.key] += 1
            catalogue[feature.key] = feature
        kinds = touches.get(contact["id"], Counter())
        for kind in kinds:
            key = f"touch={kind}"
            support[key] += 1
            catalogue.setdefault(
                key,
                Feature(key, f"Each {TouchpointKind(kind).label.lower()}",
                        {"kind": "engagement", "field": "touchpoint", "operator": "matches", "value": {"kinds": [kind]}}),
            )
        per_contact.append((features, kinds, outcome[contact["id"]][0]))

    # Keep features seen often enough; for categories, the most common values only.
    keys = []
    by_group: dict[str, list[str]] = {}
    for key, n in support.items():
        if n >= MIN_SUPPORT:
            by_group.setdefault(key.split("=")[0], []).append(key)
    for group, members in sorted(by_group.items()):
        members.sort(key=lambda k: (-support[k], k))
        keys.extend(members[:TOP_VALUES])
    column = {key: i for i, key in enumerate(keys)}
    X = np.zeros((len(per_contact), len(keys)))
    y = np.zeros(len(per_contact))
    for row, (features, kinds, won) in enumerate(per_contact):
        for feature in features:
            if feature.key in column:
                X[row, column[feature.key]] = 1.0
        for kind, n in kinds.items():
            key = f"touch={kind}"
            if key in column:
                X[row, column[key]] = float(min(n, 20))
        y[row] = 1.0 if won else 0.0
    won_count = int(y.sum())
    if not keys or won_count in (0, len(y)):
        return Suggestion(len(y), won_count, [], 0.0, "Both won and lost deals, and attributes seen on at least "
                          f"{MIN_SUPPORT} of them, are needed to fit a model.")
    weights = logistic_fit(X, y, l2=l2)
    coefficients = [
        Coefficient(feature=catalogue[key], coefficient=float(weights[i + 1]), support=support[key]) for i, key in enumerate(keys)
    ]
    coefficients.sort(key=lambda c: -abs(c.coefficient))
    return Suggestion(examples=len(y), won=won_count, coefficients=coefficients, intercept=float(weights[0]))


def suggested_rules(suggestion: Suggestion, *, scale: float = 10.0, min_effect: float = 0.05) -> tuple[list[dict], dict]:
    """Rules with points proportional to each coefficient, and grade bands spread over fit points."""
    rules = []
    for c in suggestion.coefficients:
        points = int(round(c.coefficient * scale))
        if abs(c.coefficient) < min_effect or points == 0:
            continue
        rule = dict(c.feature.rule)
        rule["label"] = f"{c.feature.label} (odds ×{c.odds_ratio:.2f})"[:120]
        rule["points"] = max(-1000, min(1000, points))
        if rule["kind"] == "engagement":
            rule["cap"] = abs(rule["points"]) * 5
            rule["half_life_days"] = 30
        elif points < 0:
            rule["kind"] = "negative"
        rules.append(rule)
    top = max(3, sum(r["points"] for r in rules if r["kind"] == "fit" and r["points"] > 0))
    bands = {"A": max(3, round(top * 0.6)), "B": max(2, round(top * 0.4)), "C": max(1, round(top * 0.2))}
    if not bands["A"] > bands["B"] > bands["C"]:
        bands = {"A": 3, "B": 2, "C": 1}
    return rules, bands
