"""Which contacts a policy or routing rule is about: one definition, used as a query filter.

Matching is always done in the database (``contacts.filter(criteria_q(...))``), so a policy
means the same thing when leads are handed off, when it is checked for matching nothing, and
when Marketing's delivered volume is counted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from accord.handoff.models import SEGMENT_BOUNDS, Segment


def segment_q(segments: Iterable[str], prefix: str = "account__") -> Q:
    combined = Q()
    for segment in segments:
        low, high = SEGMENT_BOUNDS[Segment(segment)]
        part = Q(**{f"{prefix}employee_count__gte": low})
        if high is not None:
            part &= Q(**{f"{prefix}employee_count__lte": high})
        combined |= part
    return combined


def segment_of(employee_count: int | None) -> str:
    if employee_count is None:
        return ""
    for segment, (low, high) in SEGMENT_BOUNDS.items():
        if employee_count >= low and (high is None or employee_count <= high):
            return segment
    return ""


def any_of(field: str, values: Iterable[str], *, case_insensitive: bool = False) -> Q:
    values = list(values)
    if not case_insensitive:
        return Q(**{f"{field}__in": values})
    combined = Q()
    for value in values:
        combined |= Q(**{f"{field}__iexact": value})
    return combined


def criteria_q(
    *,
    stages=(),
    grades=(),
    min_score=None,
    max_score=None,
    sources=(),
    countries=(),
    regions=(),
    segments=(),
    industries=(),
    prefix: str = "",
) -> Q:
    """A filter on Contact (or, with ``prefix="contact__"``, on rows pointing at one)."""
    p = prefix
    q = Q()
    if stages:
        q &= any_of(f"{p}lifecycle_stage", stages)
    if grades:
        q &= any_of(f"{p}grade", grades)
    if min_score is not None:
        q &= Q(**{f"{p}score__gte": min_score})
    if max_score is not None:
        q &= Q(**{f"{p}score__lte": max_score})
    if sources:
        # A lead's source is its first touch; leads captured without one count by their latest.
        q &= any_of(f"{p}first_touch_channel", sources) | (
            Q(**{f"{p}first_touch_channel": ""}) & any_of(f"{p}latest_touch_channel", sources)
        )
    if countries:
        q &= any_of(f"{p}country", countries) | (Q(**{f"{p}country": ""}) & any_of(f"{p}account__country", countries))
    if regions:
        q &= any_of(f"{p}state", regions, case_insensitive=True)
    if segments:
        q &= segment_q(segments, prefix=f"{p}account__")
    if industries:
        q &= any_of(f"{p}account__industry", industries, case_insensitive=True)
    return q


def policy_q(policy, *, prefix: str = "", include_stages: bool = True) -> Q:
    return criteria_q(
        stages=policy.stages if include_stages else (),
        grades=policy.grades,
        min_score=policy.min_score,
        max_score=policy.max_score,
        sources=policy.sources,
        countries=policy.countries,
        segments=policy.segments,
        industries=policy.industries,
        prefix=prefix,
    )


def rule_q(rule, *, prefix: str = "") -> Q:
    return criteria_q(
        countries=rule.countries, regions=rule.regions, segments=rule.segments, industries=rule.industries, prefix=prefix
    )


def source_of(contact) -> str:
    return contact.first_touch_channel or contact.latest_touch_channel or ""
