"""Seams for apps on the same layer (handoff, scoring) to feed the reports without reports
importing them. The other app registers at start-up (in its ``AppConfig.ready``)::

    from accord.reports.providers import KpiCount, register_kpi_provider

    def sla_compliance(*, start, end, contacts):
        handoffs = Handoff.objects.filter(due_at__gte=start, due_at__lt=end)
        if contacts is not None:
            handoffs = handoffs.filter(contact__in=contacts)
        ...
        return KpiCount(met=..., total=..., url="/handoffs/?breached=1")

    register_kpi_provider("sla_compliance", sla_compliance)

``contacts`` is a Contact queryset for the chosen segment, or None for everyone. Until a
provider is registered the dashboard shows "no SLA data" instead of a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KpiCount:
    met: int
    total: int
    url: str = ""


@dataclass(frozen=True)
class ChangeItem:
    """One thing that changed in a month, for the digest's "what changed" list."""

    at: datetime
    kind: str  # e.g. "scoring", "sla", "campaign"
    title: str
    url: str = ""


_KPI_PROVIDERS: dict[str, Callable[..., KpiCount | None]] = {}
_CHANGE_FEEDS: dict[str, Callable[..., list[ChangeItem]]] = {}
_ICP_PROVIDER: list[Callable[[], dict[str, dict[str, float]]]] = []


def register_kpi_provider(kpi: str, provider: Callable[..., KpiCount | None]) -> None:
    """``provider(*, start, end, contacts) -> KpiCount | None``; registering again replaces."""
    _KPI_PROVIDERS[kpi] = provider


def unregister_kpi_provider(kpi: str) -> None:
    _KPI_PROVIDERS.pop(kpi, None)


def kpi_provider(kpi: str) -> Callable[..., KpiCount | None] | None:
    return _KPI_PROVIDERS.get(kpi)


def register_change_feed(name: str, feed: Callable[..., list[ChangeItem]]) -> None:
    """``feed(*, start, end) -> list[ChangeItem]``: what this app changed in the period."""
    _CHANGE_FEEDS[name] = feed


def unregister_change_feed(name: str) -> None:
    _CHANGE_FEEDS.pop(name, None)


def change_feeds() -> dict[str, Callable[..., list[ChangeItem]]]:
    return dict(_CHANGE_FEEDS)


def register_icp_provider(
    provider: Callable[[], dict[str, dict[str, float]]] | None,
) -> Callable[[], dict[str, dict[str, float]]] | None:
    """``provider() -> {"industry": {"software": 0.6, ...}, "size": {...}, "title": {...}}``:
    the ideal customer profile as expected shares per dimension (scoring owns the profile).
    Returns the provider it replaces, so a caller can put it back."""
    previous = _ICP_PROVIDER[0] if _ICP_PROVIDER else None
    _ICP_PROVIDER.clear()
    if provider is not None:
        _ICP_PROVIDER.append(provider)
    return previous


def icp_profile() -> dict[str, dict[str, float]] | None:
    return _ICP_PROVIDER[0]() if _ICP_PROVIDER else None
