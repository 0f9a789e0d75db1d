"""Segment definitions: a small, validated JSON filter language compiled to one queryset.

A definition is a dict of optional keys, all combined with AND::

    {"stages": ["lead", "mql"], "min_score": 40, "grades": ["A", "B"],
     "industries": ["Fintech"], "countries": ["DE"], "min_employees": 50,
     "interests_any": ["sso"], "interests_all": [], "owner_ids": [3],
     "touched_kinds": ["webinar"], "touched_within_days": 90, "campaign_ids": [4]}

Validation happens when the segment is saved, so a stored segment always compiles.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact, ContactInterest

_LIST_KEYS = {
    "stages": "a list of lifecycle stages",
    "grades": "a list of grades (A–D)",
    "industries": "a list of industries",
    "countries": "a list of two-letter country codes",
    "interests_any": "a list of interest tags",
    "interests_all": "a list of interest tags",
    "owner_ids": "a list of user ids",
    "touched_kinds": "a list of touchpoint kinds",
    "campaign_ids": "a list of campaign ids",
}
_NUMBER_KEYS = {
    "min_score": (-100000, 100000),
    "max_score": (-100000, 100000),
    "min_employees": (0, 10**7),
    "max_employees": (0, 10**7),
    "touched_within_days": (1, 3650),
}
KNOWN_KEYS = tuple(_LIST_KEYS) + tuple(_NUMBER_KEYS)


def segment_definition_clean(raw: object) -> dict:
    """The definition in canonical form, or ValidationFailed naming each bad key."""
    if not isinstance(raw, dict):
        raise ValidationFailed.single("definition", "must be an object of filters")
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}
    for key, value in raw.items():
        field = f"definition.{key}"
        if key not in KNOWN_KEYS:
            errors[field] = f"is not a segment filter; use one of {', '.join(KNOWN_KEYS)}"
            continue
        if value in (None, "", []):
            continue
        if key in _NUMBER_KEYS:
            low, high = _NUMBER_KEYS[key]
            if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
                errors[field] = "must be a whole number"
                continue
            number = int(value)
            if not low <= number <= high:
                errors[field] = f"must be between {low} and {high}"
                continue
            clean[key] = number
            continue
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in items) or len(items) > 200:
            errors[field] = f"must be {_LIST_KEYS[key]}"
            continue
        problem = _check_list(key, items)
        if problem:
            errors[field] = problem
            continue
        clean[key] = _canonical_list(key, items)
    for low_key, high_key in (("min_score", "max_score"), ("min_employees", "max_employees")):
        if low_key in clean and high_key in clean and clean[low_key] > clean[high_key]:
            errors[f"definition.{high_key}"] = f"must not be below {low_key}"
    if "touched_within_days" in clean and not (clean.get("touched_kinds") or clean.get("campaign_ids")):
        errors["definition.touched_within_days"] = "needs touched_kinds or campaign_ids to say which touches count"
    if errors:
        raise ValidationFailed(errors)
    return clean


def _check_list(key: str, items: list) -> str:
    if key in ("owner_ids", "campaign_ids"):
        if not all(str(item).isdigit() for item in items):
            return "must hold whole-number ids"
    elif key == "stages":
        bad = [item for item in items if str(item).lower() not in Stage.values]
        if bad:
            return f"'{str(bad[0])[:40]}' is not a lifecycle stage; use one of {', '.join(Stage.values)}"
    elif key == "grades":
        bad = [item for item in items if str(item).upper() not in ("A", "B", "C", "D")]
        if bad:
            return f"'{str(bad[0])[:10]}' is not a grade; use A, B, C or D"
    elif key == "touched_kinds":
        bad = [item for item in items if str(item) not in TouchpointKind.values]
        if bad:
            return f"'{str(bad[0])[:40]}' is not a touchpoint kind; use one of {', '.join(TouchpointKind.values)}"
    elif key == "countries":
        bad = [item for item in items if len(str(item).strip()) != 2]
        if bad:
            return f"'{str(bad[0])[:10]}' is not a two-letter country code"
    elif any(len(str(item)) > 100 for item in items):
        return "has an entry longer than 100 characters"
    return ""


def _canonical_list(key: str, items: list) -> list:
    if key in ("owner_ids", "campaign_ids"):
        return sorted({int(item) for item in items})
    if key == "grades":
        return sorted({str(item).upper() for item in items})
    if key == "countries":
        return sorted({str(item).strip().upper() for item in items})
    if key in ("interests_any", "interests_all"):
        return sorted({str(item).strip().lower() for item in items if str(item).strip()})
    if key == "stages":
        return sorted({str(item).lower() for item in items})
    return sorted({str(item).strip() for item in items if str(item).strip()})


def segment_contacts(definition: dict) -> QuerySet[Contact]:
    """Every contact in the segment now. One query, whatever the definition."""
    d = definition
    contacts = Contact.objects.all()
    if d.get("stages"):
        contacts = contacts.filter(lifecycle_stage__in=d["stages"])
    if "min_score" in d:
        contacts = contacts.filter(score__gte=d["min_score"])
    if "max_score" in d:
        contacts = contacts.filter(score__lte=d["max_score"])
    if d.get("grades"):
        contacts = contacts.filter(grade__in=d["grades"])
    if d.get("owner_ids"):
        contacts = contacts.filter(owner_id__in=d["owner_ids"])
    if d.get("industries"):
        industry = Q()
        for name in d["industries"]:
            industry |= Q(account__industry__iexact=name)
        contacts = contacts.filter(industry)
    if d.get("countries"):
        contacts = contacts.filter(Q(country__in=d["countries"]) | Q(country="", account__country__in=d["countries"]))
    if "min_employees" in d:
        contacts = contacts.filter(account__employee_count__gte=d["min_employees"])
    if "max_employees" in d:
        contacts = contacts.filter(account__employee_count__lte=d["max_employees"])
    if d.get("interests_any"):
        contacts = contacts.filter(
            Exists(ContactInterest.objects.filter(contact=OuterRef("pk"), name__in=d["interests_any"]))
        )
    for name in d.get("interests_all", ()):
        contacts = contacts.filter(Exists(ContactInterest.objects.filter(contact=OuterRef("pk"), name=name)))
    if d.get("touched_kinds") or d.get("campaign_ids"):
        touches = Touchpoint.objects.filter(contact=OuterRef("pk"))
        if d.get("touched_kinds"):
            touches = touches.filter(kind__in=d["touched_kinds"])
        if d.get("campaign_ids"):
            touches = touches.filter(campaign_id__in=d["campaign_ids"])
        if d.get("touched_within_days"):
            touches = touches.filter(occurred_at__gte=now() - timedelta(days=d["touched_within_days"]))
        contacts = contacts.filter(Exists(touches))
    return contacts


def definition_summary(definition: dict) -> str:
    """The definition in words, for lists and the send preview."""
    labels = {
        "stages": "stage",
        "grades": "grade",
        "industries": "industry",
        "countries": "country",
        "interests_any": "interested in any of",
        "interests_all": "interested in all of",
        "owner_ids": "owner id",
        "touched_kinds": "touched by",
        "campaign_ids": "touched by campaign id",
    }
    parts = []
    for key, value in definition.items():
        if key in labels:
            parts.append(f"{labels[key]} {', '.join(str(v) for v in value)}")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(parts) or "everyone"
