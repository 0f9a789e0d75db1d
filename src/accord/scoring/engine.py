"""Scoring a set of contacts under one model version, set-wise.

Engagement rules run in SQL: one GROUP BY over the touchpoints of a batch of contacts, one
``SUM(CASE WHEN <rule matches> THEN <decayed points> END)`` column per rule, so every event's
decay (points halving every half-life) is computed by the database in the same scan. Profile
rules run in Python on one row per contact. Memory stays bounded by the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from accord.campaigns.models import Touchpoint
from accord.crm.models import Contact, Opportunity
from accord.scoring.models import GRADES, RuleKind, ScoringModel
from accord.scoring.rules import Profile, Rule, check_rules, profile_predicate

DEFAULT_BATCH = 5000
EVENT = 1_000_000.0  # see EngagementQuery: far above any sum of decayed weights a rule can reach per contact


def _split(total) -> tuple[int, float]:
    """(events, summed decayed weight) from one engagement column."""
    if total is None:
        return 0, 0.0
    total = float(total)  # PostgreSQL sums rules without decay as numeric
    events = int(total // EVENT)
    return events, total - events * EVENT
_LN2 = math.log(2)


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to score: the checked rules, grade bands and the MQL line."""

    rules: tuple[Rule, ...]
    grade_bands: dict[str, int]
    mql_min_grade: str
    mql_min_score: int
    model_id: int | None = None

    @classmethod
    def of(cls, model: ScoringModel) -> "ModelSpec":
        raw = [
            {
                "id": r.pk,
                "kind": r.kind,
                "label": r.label,
                "field": r.field,
                "operator": r.operator,
                "value": r.value,
                "points": r.points,
                "cap": r.cap,
                "half_life_days": r.half_life_days,
            }
            for r in model.rules.all()
        ]
        return cls(
            rules=tuple(check_rules(raw)),
            grade_bands={k: int(v) for k, v in model.grade_bands.items()},
            mql_min_grade=model.mql_min_grade,
            mql_min_score=model.mql_min_score,
            model_id=model.pk,
        )

    def grade_for(self, fit_points: int) -> str:
        for grade in GRADES[:3]:
            if fit_points >= self.grade_bands[grade]:
                return grade
        return "D"

    def qualifies(self, score: int, grade: str) -> bool:
        return GRADES.index(grade) <= GRADES.index(self.mql_min_grade) and score >= self.mql_min_score


@dataclass
class Scored:
    contact_id: int
    score: int
    grade: str
    fit_points: int
    engagement_points: int
    qualified: bool
    breakdown: list[dict]
    # What the contact carried before this run.
    old_score: int = 0
    old_grade: str = ""
    old_qualified: bool | None = None
    stage: str = ""
    extra: dict = field(default_factory=dict)


def _weight_sql(rule: Rule) -> tuple[str, list]:
    """SQL for one event's points after decay, with its parameters."""
    if not rule.half_life_days:
        return "1.0", []
    rate = _LN2 / rule.half_life_days  # per day
    # Clamped: PostgreSQL raises an error where exp() would underflow (about 1,000 half-lives).
    if connection.vendor == "postgresql":
        return "EXP(GREATEST(-700.0, %s * (date_part('epoch', t.occurred_at) - %s) / 86400.0))", [rate]
    return "EXP(MAX(-700.0, %s * (julianday(t.occurred_at) - %s)))", [rate]


def _now_param(moment: datetime) -> float:
    if connection.vendor == "postgresql":
        return moment.timestamp()
    return moment.timestamp() / 86400.0 + 2440587.5  # Julian day number


def _condition_sql(rule: Rule) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    value = rule.value
    for key, column in (("kinds", "t.kind"), ("channels", "t.channel"), ("campaigns", "t.campaign_id")):
        items = value.get(key)
        if items:
            parts.append(f"{column} IN ({', '.join(['%s'] * len(items))})")
            params.extend(items)
    if value.get("url"):
        pattern = value["url"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
        # LIKE ignores ASCII case on SQLite; PostgreSQL needs ILIKE for the same.
        like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        parts.append(f"t.url {like} %s ESCAPE '\\'")
        params.append(pattern)
    return " AND ".join(parts), params


class EngagementQuery:
    """The per-rule decayed sums and event counts for the touchpoints of some contacts."""

    def __init__(self, rules: Iterable[Rule], *, moment: datetime, before_first_opportunity: bool = False):
        self.rules = [r for r in rules if r.kind == RuleKind.ENGAGEMENT]
        self.moment = moment
        self.before_first_opportunity = before_first_opportunity
        columns: list[str] = []
        params: list = []
        now_value = _now_param(moment)
        for rule in self.rules:
            condition, condition_params = _condition_sql(rule)
            weight, weight_params = _weight_sql(rule)
            # One sum carries both the event count and the decayed weight: each event adds
            # EVENT + weight with weight <= 1, so count = total // EVENT (see _split).
            columns.append(f"SUM(CASE WHEN {condition} THEN {EVENT} + {weight} END)")
            params.extend(condition_params)
            if weight_params:
                params.extend([*weight_params, now_value])
        self.select = ", ".join(columns)
        self.select_params = params

    def run(self, *, id_range: tuple[int, int] | None = None, ids: list[int] | None = None) -> dict[int, tuple]:
        """contact id → (total_1, total_2, …) for contacts with any touchpoint (see _split)."""
        if not self.rules:
            return {}
        touchpoints = Touchpoint._meta.db_table
        join = ""
        where = ["t.occurred_at <= %s"]
        where_params: list = [self.moment]
        if self.before_first_opportunity:
            opportunities = Opportunity._meta.db_table
            join = (
                f" LEFT JOIN (SELECT primary_contact_id AS cid, MIN(created_at) AS first_at FROM {opportunities}"
                " WHERE primary_contact_id IS NOT NULL GROUP BY primary_contact_id) fo ON fo.cid = t.contact_id"
            )
            where.append("(fo.first_at IS NULL OR t.occurred_at < fo.first_at)")
        if id_range is not None:
            where.append("t.contact_id BETWEEN %s AND %s")
            where_params.extend(id_range)
        elif ids is not None:
            if not ids:
                return {}
            where.append(f"t.contact_id IN ({', '.join(['%s'] * len(ids))})")
            where_params.extend(ids)
        sql = f"SELECT t.contact_id, {self.select} FROM {touchpoints} t{join} WHERE {' AND '.join(where)} GROUP BY t.contact_id"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.select_params, *where_params])
            return {row[0]: row[1:] for row in cursor.fetchall()}


_PROFILE_COLUMNS = (
    "id",
    "job_title",
    "seniority",
    "account__industry",
    "account__employee_count",
    "account__annual_revenue",
    "country",
    "account__country",
    "email",
    "do_not_contact",
    "score",
    "grade",
    "lifecycle_stage",
    "score_detail__qualified",
    "score_detail__model_id",
)


def score_contacts(
    spec: ModelSpec,
    *,
    moment: datetime,
    contact_ids: Iterable[int] | None = None,
    batch_size: int = DEFAULT_BATCH,
    before_first_opportunity: bool = False,
) -> Iterator[list[Scored]]:
    """Score contacts batch by batch: every contact, or only ``contact_ids``."""
    profile_rules = [(r, profile_predicate(r)) for r in spec.rules if r.kind != RuleKind.ENGAGEMENT]
    engagement = EngagementQuery(spec.rules, moment=moment, before_first_opportunity=before_first_opportunity)
    contacts = Contact.objects.order_by("id").values_list(*_PROFILE_COLUMNS)
    if contact_ids is not None:
        wanted = sorted(set(contact_ids))
        for start in range(0, len(wanted), batch_size):
            chunk = wanted[start : start + batch_size]
            rows = list(contacts.filter(id__in=chunk))
            if rows:
                yield _score_rows(spec, rows, profile_rules, engagement.run(ids=[r[0] for r in rows]), engagement.rules)
        return
    last_id = 0
    while True:
        rows = list(contacts.filter(id__gt=last_id)[:batch_size])
        if not rows:
            return
        last_id = rows[-1][0]
        sums = engagement.run(id_range=(rows[0][0], last_id))
        yield _score_rows(spec, rows, profile_rules, sums, engagement.rules)


def _score_rows(spec: ModelSpec, rows, profile_rules, sums: dict[int, tuple], engagement_rules: list[Rule]) -> list[Scored]:
    scored: list[Scored] = []
    none = (None,) * len(engagement_rules)
    for row in rows:
        (cid, job_title, seniority, industry, employees, revenue, country, account_country, email, dnc,
         old_score, old_grade, stage, old_qualified, old_model) = row
        profile = Profile.of(
            job_title=job_title,
            seniority=seniority,
            industry=industry,
            employee_count=employees,
            annual_revenue=revenue,
            country=country or account_country,
            email=email,
            do_not_contact=dnc,
        )
        breakdown: list[dict] = []
        fit = 0
        for rule, matches in profile_rules:
            if matches(profile):
                fit += rule.points
                breakdown.append({"rule": rule.id, "label": rule.label, "kind": rule.kind, "points": rule.points})
        engaged = 0
        values = sums.get(cid, none)
        for index, rule in enumerate(engagement_rules):
            events, total = _split(values[index])
            if not events:
                continue
            points = rule.points * total
            if rule.cap is not None:
                points = max(-rule.cap, min(rule.cap, points))
            points = int(round(points))
            engaged += points
            breakdown.append(
                {"rule": rule.id, "label": rule.label, "kind": rule.kind, "points": points, "events": int(events)}
            )
        grade = spec.grade_for(fit)
        score = fit + engaged
        scored.append(
            Scored(
                contact_id=cid,
                score=score,
                grade=grade,
                fit_points=fit,
                engagement_points=engaged,
                qualified=spec.qualifies(score, grade),
                breakdown=breakdown,
                old_score=old_score,
                old_grade=old_grade,
                old_qualified=old_qualified if old_model is not None else None,
                stage=stage,
            )
        )
    return scored
