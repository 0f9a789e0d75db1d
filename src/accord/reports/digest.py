"""The monthly digest: what moved, what broke, what changed — built once per month, emailed
(HTML and text) to both teams and kept for the web app."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from accord.campaigns.models import Campaign
from accord.core.clock import now as clock_now
from accord.core.models import User
from accord.reports import queries
from accord.reports.models import Digest, Kpi, KpiSnapshot
from accord.reports.providers import ChangeItem, change_feeds
from accord.reports.services import add_months, month_bounds, month_start, snapshots_refresh

logger = logging.getLogger(__name__)
DIGEST_MODEL = "linear"
STALE_AFTER = timedelta(hours=2)


@dataclass
class DigestContent:
    month: date
    subject: str
    kpis: list[dict] = field(default_factory=list)
    sla: dict = field(default_factory=dict)
    changes: list[ChangeItem] = field(default_factory=list)
    top: list = field(default_factory=list)
    bottom: list = field(default_factory=list)
    drift_warnings: list[str] = field(default_factory=list)


def _changes_from_model(app_label: str, model_name: str, time_field: str, kind: str, title: str, start, end, **filters):
    """Rows of another app's model changed in the period, if that app and field exist."""
    try:
        model = apps.get_model(app_label, model_name)
        model._meta.get_field(time_field)
    except (LookupError, FieldDoesNotExist):
        return []
    items = []
    try:
        rows = model.objects.filter(**{f"{time_field}__gte": start, f"{time_field}__lt": end}, **filters)[:50]
        for row in rows:
            items.append(ChangeItem(at=getattr(row, time_field), kind=kind, title=f"{title}: {row}"))
    except Exception:  # another app's schema is not ours to trust; the digest still goes out
        logger.exception("digest: could not read %s.%s", app_label, model_name)
    return items


def _what_changed(start: datetime, end: datetime) -> list[ChangeItem]:
    items: list[ChangeItem] = []
    for name, feed in change_feeds().items():
        try:
            items.extend(feed(start=start, end=end))
        except Exception:
            logger.exception("digest: change feed %s failed", name)
    fed = {item.kind for item in items}
    if "scoring" not in fed:
        items += _changes_from_model("scoring", "ScoringModel", "activated_at", "scoring", "Scoring version activated", start, end)
    if "sla" not in fed:
        items += _changes_from_model("handoff", "SlaPolicy", "updated_at", "sla", "SLA policy edited", start, end)
    if "campaign" not in fed:
        for campaign in Campaign.objects.filter(start_date__gte=start.date(), start_date__lt=end.date()).order_by("start_date")[:50]:
            items.append(
                ChangeItem(
                    at=datetime.combine(campaign.start_date, datetime.min.time(), tzinfo=start.tzinfo),
                    kind="campaign",
                    title=f"Campaign launched: {campaign.name} ({campaign.get_channel_display()})",
                    url=f"/campaigns/{campaign.pk}/",
                )
            )
    return sorted(items, key=lambda item: item.at)


def digest_content_build(*, month: date) -> DigestContent:
    """Everything the digest says about ``month``, read from the snapshots and the record."""
    month = month_start(month)
    period = queries.Period(month, month)
    previous = queries.Period(add_months(month, -1), add_months(month, -1))
    now_cards = queries.dashboard_kpis(period=period)
    before = {card.kpi: card for card in queries.dashboard_kpis(period=previous)}
    kpis = []
    for card in now_cards:
        for item in (card, card.secondary):
            if item is None:
                continue
            prior = before.get(item.kpi)
            if item.kpi == Kpi.SOURCED_REVENUE and prior is None:
                prior = before[Kpi.SOURCED_PIPELINE].secondary
            change = None
            if item.value is not None and prior is not None and prior.value not in (None, 0):
                change = (item.value - prior.value) / abs(prior.value)
            kpis.append(
                {
                    "label": item.label,
                    "display": item.display,
                    "previous": prior.display if prior else "—",
                    "change": change,
                    "target": item.target_display,
                    "on_track": item.on_track,
                }
            )
    snapshot = KpiSnapshot.objects.filter(month=month, segment="").first()
    sla = {"available": bool(snapshot and snapshot.sla_total is not None)}
    if sla["available"]:
        sla["breaches"] = snapshot.sla_total - snapshot.sla_met
        sla["total"] = snapshot.sla_total
    start, end = month_bounds(month, month)
    table = queries.roi_table(model=DIGEST_MODEL, period=period)
    credited = [row for row in table.campaigns if row.campaign_id is not None]
    top = sorted(credited, key=lambda r: (-r.revenue, -r.pipeline, r.label))[:3]
    costed = [row for row in credited if row.cost]
    bottom = sorted(costed, key=lambda r: (r.roi if r.roi is not None else 0, r.label))[:3]
    drift = queries.customer_mix_drift(period=period)
    return DigestContent(
        month=month,
        subject=f"Accord monthly digest · {month:%B %Y}",
        kpis=kpis,
        sla=sla,
        changes=_what_changed(start, end),
        top=top,
        bottom=bottom,
        drift_warnings=drift["warnings"],
    )


def digest_recipients() -> list[User]:
    """Everyone on both teams with an email address."""
    return list(User.objects.filter(is_active=True).exclude(email="").order_by("id"))


def digest_build(*, month: date) -> Digest:
    """Build (or rebuild, while unsent) the stored digest for ``month``."""
    month = month_start(month)
    run = queries.latest_refresh()
    if run is None or run.finished_at is None or clock_now() - run.finished_at > STALE_AFTER:
        snapshots_refresh()
    content = digest_content_build(month=month)
    context = {"digest": content, "site_url": settings.SITE_URL.rstrip("/"), "currency": queries.reporting_currency()}
    html = render_to_string("reports/digest_email.html", context)
    text = render_to_string("reports/digest_email.txt", context)
    digest, created = Digest.objects.get_or_create(
        month=month, defaults={"subject": content.subject, "html": html, "text": text, "created_at": clock_now()}
    )
    if not created and digest.sent_at is None:
        digest.subject, digest.html, digest.text = content.subject, html, text
        digest.save(update_fields=["subject", "html", "text"])
    return digest


def digest_send(*, month: date) -> Digest:
    """Send the digest for ``month`` once. A second call (a retried job, a second worker) finds
    it sent and does nothing."""
    digest = digest_build(month=month)
    with transaction.atomic():
        locked = Digest.objects.select_for_update().get(pk=digest.pk)
        if locked.sent_at is not None:
            return locked
        people = digest_recipients()
        url = f"{settings.SITE_URL.rstrip('/')}/reports/digests/{locked.month:%Y-%m}/"
        messages = []
        for person in people:
            message = EmailMultiAlternatives(
                subject=locked.subject,
                body=f"{locked.text}\n\nOn the web: {url}\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[person.email],
            )
            message.attach_alternative(locked.html, "text/html")
            messages.append(message)
        if messages:
            get_connection().send_messages(messages)
        locked.sent_at = clock_now()
        locked.recipients = len(messages)
        locked.save(update_fields=["sent_at", "recipients"])
    return locked


def digest_due_month(*, today: date) -> date:
    """The month a digest sent today reports on: the last complete one."""
    return add_months(month_start(today), -1)
