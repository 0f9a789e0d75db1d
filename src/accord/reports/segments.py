"""Segments are company-size bands of the account; one definition for SQL and numpy."""

from __future__ import annotations

import numpy as np
from django.db.models import Q

from accord.reports.models import Segment

SMB_MAX = 49
MIDMARKET_MAX = 999
SEGMENT_ORDER = (Segment.SMB, Segment.MIDMARKET, Segment.ENTERPRISE, Segment.UNKNOWN)


def segment_codes(employees: np.ndarray) -> np.ndarray:
    """Index into SEGMENT_ORDER per employee count (negative = unknown)."""
    out = np.full(len(employees), 3, dtype=np.int64)
    known = employees >= 1
    out[known & (employees <= SMB_MAX)] = 0
    out[known & (employees > SMB_MAX) & (employees <= MIDMARKET_MAX)] = 1
    out[known & (employees > MIDMARKET_MAX)] = 2
    return out


def segment_q(segment: str, prefix: str) -> Q:
    """Filter on ``<prefix>employee_count`` (``prefix`` leads to an Account, e.g. "account__")."""
    field = f"{prefix}employee_count"
    if segment == Segment.SMB:
        return Q(**{f"{field}__gte": 1, f"{field}__lte": SMB_MAX})
    if segment == Segment.MIDMARKET:
        return Q(**{f"{field}__gt": SMB_MAX, f"{field}__lte": MIDMARKET_MAX})
    if segment == Segment.ENTERPRISE:
        return Q(**{f"{field}__gt": MIDMARKET_MAX})
    if segment == Segment.UNKNOWN:
        return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": 1})
    return Q()


def segment_of(employees: int | None) -> str:
    if employees is None or employees < 1:
        return Segment.UNKNOWN
    if employees <= SMB_MAX:
        return Segment.SMB
    if employees <= MIDMARKET_MAX:
        return Segment.MIDMARKET
    return Segment.ENTERPRISE


def opportunity_segment_q(segment: str) -> Q:
    """A deal's segment is its account's, or its primary contact's account's when it has none."""
    if not segment:
        return Q()
    return (Q(account__isnull=False) & segment_q(segment, "account__")) | (
        Q(account__isnull=True) & segment_q(segment, "primary_contact__account__")
    )
