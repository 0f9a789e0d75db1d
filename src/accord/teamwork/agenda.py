"""The joint meeting's agenda, generated from the numbers for the weeks since the last meeting.

Each section is plain JSON (title, items of text and link), stored on the meeting so the
agenda people discussed stays as it was, even when the numbers move later.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from accord.crm.lifecycle import Stage
from accord.crm.models import StageChange
from accord.knowledge.queries import knowledge_changes_since
from accord.reports.providers import change_feeds, kpi_provider
from accord.reports.queries import Period, customer_mix_drift, dashboard_kpis
from accord.reports.services import month_start
from accord.teamwork.models import RequestStatus, TeamRequest


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def agenda_build(*, since: date, until: date) -> list[dict]:
    # The meeting's own day counts: what happened this morning belongs on this agenda.
    start, end = _moment(since), _moment(until + timedelta(days=1))
    period = Period(month_start(since), month_start(until))
    return [
        _sla_section(start, end),
        _rejections_section(start, end),
        _kpi_section(period),
        _drift_section(period),
        _requests_section(),
        _knowledge_section(start),
        _changes_section(start, end),
    ]


def _section(title: str, items: list[dict], empty: str) -> dict:
    return {"title": title, "items": items or [{"text": empty, "url": ""}], "count": len(items)}


def _sla_section(start: datetime, end: datetime) -> dict:
    provider = kpi_provider("sla_compliance")
    counts = provider(start=start, end=end, contacts=None) if provider else None
    items = []
    if counts and counts.total:
        breached = counts.total - counts.met
        share = counts.met / counts.total * 100
        items.append({"text": f"{breached} of {counts.total} handoffs breached the SLA ({share:.0f} % within SLA)", "url": counts.url})
    return _section("SLA breaches", items, "No handoffs were due in this period." if provider else "No SLA data yet.")


def _rejections_section(start: datetime, end: datetime) -> dict:
    # Read from the stage history itself, for exactly the weeks since the last meeting.
    reasons = (
        StageChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end, from_stage__in=(Stage.MQL, Stage.SAL),
            to_stage__in=(Stage.DISQUALIFIED, Stage.RECYCLED),
        )
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:6]
    )
    items = [
        {"text": f"{row['reason'] or '(no reason given)'}: {row['n']} lead{'s' if row['n'] != 1 else ''}", "url": "/reports/"}
        for row in reasons
    ]
    return _section("Why Sales rejected leads", items, "No leads were rejected.")


def _kpi_section(period: Period) -> dict:
    items = []
    for card in dashboard_kpis(period=period):
        if card.value is None:
            continue
        text = f"{card.label}: {card.display}"
        if card.target_display:
            text += f" (target {card.target_display}{', on track' if card.on_track else ', behind' if card.on_track is False else ''})"
        previous = [value for _, value in card.trend[:-1] if value is not None]
        if previous:
            delta = card.value - previous[-1]
            text += f", {'up' if delta > 0 else 'down' if delta < 0 else 'flat'} from the month before"
        items.append({"text": text, "url": card.drill_url})
    return _section("Shared KPIs", items, "No KPI figures yet (run accord reports refresh).")


def _drift_section(period: Period) -> dict:
    warnings = customer_mix_drift(period=period)["warnings"]
    return _section("Customer-mix drift", [{"text": w, "url": "/reports/"} for w in warnings], "No large shifts.")


def _requests_section() -> dict:
    open_requests = TeamRequest.objects.filter(private=False).exclude(status=RequestStatus.CLOSED).select_related("assignee")[:15]
    items = [
        {
            "text": f"{r.title} ({r.from_team} → {r.to_team}, "
            f"{'assigned to ' + r.assignee.display_name if r.assignee else 'unassigned'})",
            "url": f"/team/requests/{r.pk}/",
        }
        for r in open_requests
    ]
    return _section("Open requests between the teams", items, "No open requests.")


def _knowledge_section(start: datetime) -> dict:
    items = [
        {"text": f"“{v.article.title}” v{v.number} by {v.author.display_name if v.author else '—'}"
                 + (f": {v.change_note}" if v.change_note else ""),
         "url": f"/knowledge/{v.article_id}/diff/{v.number - 1}/{v.number}/" if v.number > 1 else f"/knowledge/{v.article_id}/"}
        for v in knowledge_changes_since(start)[:15]
    ]
    return _section("Knowledge changes since last time", items, "No shared material changed.")


def _changes_section(start: datetime, end: datetime) -> dict:
    from accord.campaigns.models import Campaign
    from accord.scoring.models import ScoringModel

    items = []
    fed = set()
    for name, feed in change_feeds().items():
        for item in feed(start=start, end=end):
            items.append({"text": item.title, "url": item.url})
            fed.add(item.kind)
    if "scoring" not in fed:
        items += [
            {"text": f"Scoring version activated: {model}", "url": f"/scoring/{model.pk}/"}
            for model in ScoringModel.objects.filter(activated_at__gte=start, activated_at__lt=end)[:10]
        ]
    if "campaign" not in fed:
        items += [
            {"text": f"Campaign launched: {campaign.name}", "url": f"/campaigns/{campaign.pk}/"}
            for campaign in Campaign.objects.filter(start_date__gte=start.date(), start_date__lt=end.date())[:10]
        ]
    return _section("What changed (scoring, SLA policies, campaigns)", items[:20], "Nothing changed.")
