"""What a rule may say, checked once when a model is saved — never when a contact is scored.

A rule is a plain dict (the editor, the API and the suggestions all produce the same shape)::

    {"kind": "fit", "label": "Decision makers", "field": "seniority", "operator": "in",
     "value": ["director", "vp", "c_level"], "points": 20}
    {"kind": "engagement", "label": "Pricing page", "field": "touchpoint", "operator": "matches",
     "value": {"kinds": ["page_visit"], "url": "*/pricing*"}, "points": 5, "cap": 20, "half_life_days": 30}

Fit and negative rules look at the contact and its account; engagement rules count touchpoints,
each event's points halving every ``half_life_days`` and the rule's total stopping at ``cap``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from accord.campaigns.models import Channel, TouchpointKind
from accord.crm.models import Seniority
from accord.scoring.models import GRADES, RuleKind

MAX_POINTS = 1000
MAX_RULES = 100
MAX_HALF_LIFE_DAYS = 3650
EMAIL_DOMAIN_TYPES = ("free", "business", "education")
_EDU = re.compile(r"(\.edu|\.ac\.[a-z]{2}|\.edu\.[a-z]{2})$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# Profile fields a fit or negative rule may test, and the operators each accepts.
PROFILE_FIELDS: dict[str, tuple[str, ...]] = {
    "job_title": ("contains", "matches"),
    "seniority": ("in",),
    "industry": ("in",),
    "employee_count": ("between",),
    "annual_revenue": ("between",),
    "country": ("in",),
    "email_domain": ("in",),
    "email_domain_type": ("is",),
    "do_not_contact": ("is",),
}
FIELD_LABELS = {
    "job_title": "Job title",
    "seniority": "Seniority",
    "industry": "Industry (account)",
    "employee_count": "Employees (account)",
    "annual_revenue": "Annual revenue (account)",
    "country": "Country",
    "email_domain": "Email domain",
    "email_domain_type": "Email domain type",
    "do_not_contact": "Do not contact / unsubscribed",
    "touchpoint": "Touchpoints",
}
ENGAGEMENT_KEYS = ("kinds", "channels", "campaigns", "url")


class RuleErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Rule:
    """A checked rule, ready to score with."""

    id: int | None
    kind: str
    label: str
    field: str
    operator: str
    value: object
    points: int
    cap: int | None = None
    half_life_days: float | None = None

    @property
    def is_engagement(self) -> bool:
        return self.kind == RuleKind.ENGAGEMENT

    def as_dict(self) -> dict:
        data = {
            "kind": self.kind,
            "label": self.label,
            "field": self.field,
            "operator": self.operator,
            "value": self.value,
            "points": self.points,
        }
        if self.is_engagement:
            data["cap"] = self.cap
            data["half_life_days"] = self.half_life_days
        return data


def _words(raw, *, lower: bool = True) -> list[str]:
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, (list, tuple)):
        raise ValueError("must be a list of values")
    items = [str(item).strip() for item in raw if str(item).strip()]
    return [item.lower() for item in items] if lower else items


def _number(raw, name: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} '{raw}' is not a number") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def _check_profile_value(field: str, operator: str, raw) -> object:
    """The normalized value for a profile rule; ValueError says what is wrong with it."""
    if operator == "contains":
        words = _words(raw)
        if not words:
            raise ValueError("needs at least one word to look for")
        return words
    if operator == "matches":
        pattern = str(raw or "").strip()
        if not pattern:
            raise ValueError("needs a regular expression")
        if len(pattern) > 200:
            raise ValueError("regular expression is longer than 200 characters")
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as error:
            raise ValueError(f"'{pattern}' is not a valid regular expression ({error})") from None
        return pattern
    if operator == "between":
        if isinstance(raw, str):
            low, _, high = raw.partition("-")
            raw = [low.strip(), high.strip()]
        if isinstance(raw, dict):
            raw = [raw.get("min"), raw.get("max")]
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise ValueError("must be a range: [minimum, maximum] (either may be empty)")
        low, high = _number(raw[0], "minimum"), _number(raw[1], "maximum")
        if low is None and high is None:
            raise ValueError("needs a minimum or a maximum")
        if low is not None and high is not None and low > high:
            raise ValueError(f"minimum {low:g} is above maximum {high:g}")
        return [low, high]
    if operator == "in":
        if field == "seniority":
            values = _words(raw)
            bad = [v for v in values if v not in Seniority.values or not v]
            if bad:
                raise ValueError(f"'{bad[0]}' is not a seniority; use {', '.join(v for v in Seniority.values if v)}")
        elif field == "country":
            values = _words(raw, lower=False)
            values = [v.upper() for v in values]
            bad = [v for v in values if not _COUNTRY.match(v)]
            if bad:
                raise ValueError(f"'{bad[0]}' is not a two-letter country code")
        else:
            values = _words(raw)
        if not values:
            raise ValueError("needs at least one value")
        return values
    if operator == "is":
        if field == "do_not_contact":
            if raw in (True, "true", "True", "yes", "1", 1):
                return True
            if raw in (False, "false", "False", "no", "0", 0):
                return False
            raise ValueError("must be true or false")
        value = str(raw or "").strip().lower()
        if value not in EMAIL_DOMAIN_TYPES:
            raise ValueError(f"must be one of {', '.join(EMAIL_DOMAIN_TYPES)}")
        return value
    raise ValueError(f"unknown operator '{operator}'")  # pragma: no cover - operators are checked first


def _check_engagement_value(raw) -> dict:
    if not isinstance(raw, dict):
        raise ValueError("must name touchpoint types, channels, campaigns or a URL pattern")
    unknown = set(raw) - set(ENGAGEMENT_KEYS)
    if unknown:
        raise ValueError(f"unknown condition '{sorted(unknown)[0]}'; use {', '.join(ENGAGEMENT_KEYS)}")
    value: dict[str, object] = {}
    kinds = _words(raw.get("kinds") or [])
    bad = [k for k in kinds if k not in TouchpointKind.values]
    if bad:
        raise ValueError(f"'{bad[0]}' is not a touchpoint type; use {', '.join(TouchpointKind.values)}")
    channels = _words(raw.get("channels") or [])
    bad = [c for c in channels if c not in Channel.values]
    if bad:
        raise ValueError(f"'{bad[0]}' is not a channel; use {', '.join(Channel.values)}")
    campaigns = []
    for item in _words(raw.get("campaigns") or []):
        if not item.isdigit():
            raise ValueError(f"campaign '{item}' is not a campaign id")
        campaigns.append(int(item))
    url = str(raw.get("url") or "").strip()
    if len(url) > 300:
        raise ValueError("URL pattern is longer than 300 characters")
    for key, item in (("kinds", kinds), ("channels", channels), ("campaigns", campaigns), ("url", url)):
        if item:
            value[key] = item
    if not value:
        raise ValueError("needs at least one condition: touchpoint types, channels, campaigns or a URL pattern")
    return value


def _int_in_range(raw, *, low: int, high: int, name: str) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name} '{raw}' is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of range ({low} to {high})")
    return value


def check_rules(raw_rules: list[dict], *, known_campaigns: set[int] | None = None) -> list[Rule]:
    """Every rule checked; RuleErrors maps ``rules.N.field`` to a message naming the rule."""
    errors: dict[str, str] = {}
    rules: list[Rule] = []
    if len(raw_rules) > MAX_RULES:
        raise RuleErrors({"rules": f"a model may have at most {MAX_RULES} rules"})
    for index, raw in enumerate(raw_rules):
        label = str(raw.get("label") or "").strip()[:120]
        name = f"rule {index + 1}" + (f" '{label}'" if label else "")

        def fail(key: str, message: str) -> None:
            errors.setdefault(f"rules.{index}.{key}", f"{name}: {message}")

        kind = str(raw.get("kind") or "").strip()
        if kind not in RuleKind.values:
            fail("kind", f"kind '{kind}' is unknown; use {', '.join(RuleKind.values)}")
            continue
        if not label:
            fail("label", "needs a label")
        field = str(raw.get("field") or "").strip()
        operator = str(raw.get("operator") or "").strip()
        value = None
        if kind == RuleKind.ENGAGEMENT:
            field, operator = "touchpoint", "matches"
            try:
                value = _check_engagement_value(raw.get("value"))
            except ValueError as error:
                fail("value", str(error))
            if known_campaigns is not None and isinstance(value, dict):
                missing = [c for c in value.get("campaigns", []) if c not in known_campaigns]
                if missing:
                    fail("value", f"there is no campaign with id {missing[0]}")
        elif field not in PROFILE_FIELDS:
            fail("field", f"unknown field '{field}'; use {', '.join(PROFILE_FIELDS)}")
        elif operator not in PROFILE_FIELDS[field]:
            fail("operator", f"field '{field}' does not support '{operator}'; use {', '.join(PROFILE_FIELDS[field])}")
        else:
            try:
                value = _check_profile_value(field, operator, raw.get("value"))
            except ValueError as error:
                fail("value", str(error))
        points = None
        try:
            points = _int_in_range(raw.get("points"), low=-MAX_POINTS, high=MAX_POINTS, name="points")
            if points == 0:
                raise ValueError("points must not be 0")
            if kind == RuleKind.NEGATIVE and points > 0:
                raise ValueError("a negative rule must take points away (use a number below 0)")
        except ValueError as error:
            fail("points", str(error))
        cap = half_life = None
        if kind == RuleKind.ENGAGEMENT:
            if raw.get("cap") not in (None, ""):
                try:
                    cap = _int_in_range(raw.get("cap"), low=1, high=100 * MAX_POINTS, name="cap")
                    if points is not None and abs(points) > cap:
                        raise ValueError(f"cap {cap} is below the points of one event ({abs(points)})")
                except ValueError as error:
                    fail("cap", str(error))
            if raw.get("half_life_days") not in (None, ""):
                try:
                    half_life = float(raw.get("half_life_days"))
                    if not 0.5 <= half_life <= MAX_HALF_LIFE_DAYS:
                        raise ValueError(f"half-life {half_life:g} days is out of range (0.5 to {MAX_HALF_LIFE_DAYS})")
                except (TypeError, ValueError) as error:
                    message = str(error) if "out of range" in str(error) else f"half-life '{raw.get('half_life_days')}' is not a number of days"
                    fail("half_life_days", message)
        if not any(key.startswith(f"rules.{index}.") for key in errors):
            rules.append(
                Rule(
                    id=raw.get("id"),
                    kind=kind,
                    label=label,
                    field=field,
                    operator=operator,
                    value=value,
                    points=points,
                    cap=cap,
                    half_life_days=half_life,
                )
            )
    if errors:
        raise RuleErrors(errors)
    return rules


def check_settings(*, grade_bands, mql_min_grade, mql_min_score) -> tuple[dict[str, int], str, int]:
    """Grade bands must step down from A to C without overlapping; the MQL line must be in range."""
    errors: dict[str, str] = {}
    bands: dict[str, int] = {}
    if not isinstance(grade_bands, dict):
        grade_bands = {}
    for grade in GRADES[:3]:
        raw = grade_bands.get(grade)
        try:
            bands[grade] = _int_in_range(raw, low=-MAX_POINTS, high=MAX_POINTS * 10, name=f"grade {grade} minimum")
        except ValueError as error:
            errors[f"grade_bands.{grade}"] = f"grade band {grade}: {error}"
    if not errors:
        for higher, lower in (("A", "B"), ("B", "C")):
            if bands[lower] >= bands[higher]:
                errors[f"grade_bands.{lower}"] = (
                    f"grade bands overlap: {lower} starts at {bands[lower]} fit points, which is not below "
                    f"{higher}'s {bands[higher]}"
                )
    grade = str(mql_min_grade or "").strip().upper()
    if grade not in GRADES:
        errors["mql_min_grade"] = "MQL grade must be one of A, B, C, D"
    score = 0
    try:
        score = _int_in_range(mql_min_score, low=0, high=MAX_POINTS * 10, name="MQL score threshold")
    except ValueError as error:
        errors["mql_min_score"] = str(error)
    if errors:
        raise RuleErrors(errors)
    return bands, grade, score


# --- evaluation of profile rules (engagement rules are evaluated in SQL, see engine.py) ---


class Profile(tuple):
    """A contact's profile as a plain tuple (fast to build for a whole base):
    (job title lower-cased, seniority, industry lower-cased, employee count, annual revenue,
    country, email domain, email domain type, do-not-contact)."""

    __slots__ = ()

    @classmethod
    def of(cls, *, job_title, seniority, industry, employee_count, annual_revenue, country, email, do_not_contact):
        domain = email.rpartition("@")[2] if email else ""
        return cls(
            (
                (job_title or "").lower(),
                seniority or "",
                (industry or "").lower(),
                employee_count,
                annual_revenue,
                country or "",
                domain,
                domain_type(domain),
                bool(do_not_contact),
            )
        )


def domain_type(domain: str) -> str:
    from accord.core.normalize import FREE_MAIL_DOMAINS

    if not domain:
        return ""
    if domain in FREE_MAIL_DOMAINS:
        return "free"
    if _EDU.search(domain):
        return "education"
    return "business"


def email_domain_type(email: str) -> str:
    return domain_type(email.rpartition("@")[2] if email else "")


def profile_predicate(rule: Rule):
    """A function Profile → bool for one checked profile rule."""
    field, op, value = rule.field, rule.operator, rule.value
    if field == "job_title":
        if op == "contains":
            any_word = re.compile("|".join(re.escape(w) for w in value))
            return lambda p: any_word.search(p[0]) is not None
        pattern = re.compile(value, re.IGNORECASE)
        return lambda p: bool(p[0]) and pattern.search(p[0]) is not None
    if field == "seniority":
        wanted = frozenset(value)
        return lambda p: p[1] in wanted
    if field == "industry":
        wanted = frozenset(value)
        return lambda p: p[2] in wanted
    if field in ("employee_count", "annual_revenue"):
        index = 3 if field == "employee_count" else 4
        low, high = value
        low = float("-inf") if low is None else low
        high = float("inf") if high is None else high
        return lambda p: p[index] is not None and low <= float(p[index]) <= high
    if field == "country":
        wanted = frozenset(value)
        return lambda p: p[5] in wanted
    if field == "email_domain":
        wanted = frozenset(value)
        return lambda p: p[6] in wanted
    if field == "email_domain_type":
        return lambda p: p[7] == value
    if field == "do_not_contact":
        return lambda p: p[8] is value
    raise ValueError(f"unknown field {field}")  # pragma: no cover - fields are checked at save time
