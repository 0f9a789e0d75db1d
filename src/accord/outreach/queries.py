"""Reads for outreach: the shared calendar with its collisions, send statistics, a contact's consent."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.models import Team
from accord.outreach.models import (
    ConsentEvent,
    ContactSubscription,
    EmailSend,
    PlannedOutreach,
    RecipientStatus,
    SendRecipient,
    SendStatus,
)
from accord.outreach.segments import segment_contacts

SALES_ACTIVITY_KINDS = (TouchpointKind.CALL, TouchpointKind.MEETING, TouchpointKind.SALES_EMAIL)


@dataclass
class CalendarItem:
    title: str
    team: str
    kind: str
    starts_on: date
    ends_on: date
    url: str = ""
    audience: str = ""
    contact_id: int | None = None
    segment_id: int | None = None
    colliding: bool = False
    note: str = ""


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    items: list[CalendarItem] = field(default_factory=list)
    sales_touches: int = 0
    marketing_touches: int = 0


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)


def outreach_calendar(*, year: int, month: int) -> list[list[CalendarDay]]:
    """Weeks of days: every send and planned outreach of both teams, with collisions marked.

    A collision is two items from different teams aimed at the same contact or segment on
    overlapping dates, or a marketing send with recipients held because of Sales' activity.
    """
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    start, end = _day_bounds(first, last)
    items: list[CalendarItem] = []
    sends = list(
        EmailSend.objects.filter(scheduled_for__gte=start, scheduled_for__lt=end)
        .exclude(status=SendStatus.CANCELLED)
        .select_related("segment")
        .annotate(sales_held=Count("recipients", filter=Q(recipients__reason__contains="sales")))
    )
    for send in sends:
        day = timezone.localtime(send.scheduled_for).date()
        items.append(
            CalendarItem(
                title=send.name, team=Team.MARKETING, kind="email send", starts_on=day, ends_on=day,
                url=f"/outreach/sends/{send.pk}/", audience=send.segment.name, segment_id=send.segment_id,
                colliding=send.sales_held > 0,
                note=f"{send.sales_held} held for Sales activity" if send.sales_held else "",
            )
        )
    for planned in PlannedOutreach.objects.filter(starts_on__lte=last, ends_on__gte=first).select_related("contact", "segment"):
        items.append(
            CalendarItem(
                title=planned.title, team=planned.team, kind=planned.kind, starts_on=planned.starts_on,
                ends_on=planned.ends_on, audience=str(planned.contact or planned.segment),
                contact_id=planned.contact_id, segment_id=planned.segment_id,
                url=f"/contacts/{planned.contact_id}/" if planned.contact_id else "",
            )
        )
    _mark_overlaps(items)
    touch_counts = (
        Touchpoint.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .filter(Q(team=Team.SALES, kind__in=SALES_ACTIVITY_KINDS) | Q(team=Team.MARKETING, kind=TouchpointKind.EMAIL_SENT))
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "team")
        .annotate(n=Count("id"))
    )
    counts: dict[tuple[date, str], int] = {(row["day"], row["team"]): row["n"] for row in touch_counts}
    result = []
    for week in weeks:
        row = []
        for day in week:
            cell = CalendarDay(
                day=day, in_month=day.month == month,
                sales_touches=counts.get((day, Team.SALES), 0), marketing_touches=counts.get((day, Team.MARKETING), 0),
            )
            cell.items = [item for item in items if item.starts_on <= day <= item.ends_on]
            row.append(cell)
        result.append(row)
    return result


def _mark_overlaps(items: list[CalendarItem]) -> None:
    for index, one in enumerate(items):
        for other in items[index + 1 :]:
            if one.team == other.team:
                continue
            same_audience = (one.contact_id and one.contact_id == other.contact_id) or (
                one.segment_id and one.segment_id == other.segment_id
            )
            overlapping = one.starts_on <= other.ends_on and other.starts_on <= one.ends_on
            if same_audience and overlapping:
                one.colliding = other.colliding = True


def planned_collisions_for_send(*, send: EmailSend, day: date) -> list[PlannedOutreach]:
    """The other team's planned outreach to this send's audience around its day (±3 days)."""
    window = (day - timedelta(days=3), day + timedelta(days=3))
    members = segment_contacts(send.segment.definition).values("pk")
    return list(
        PlannedOutreach.objects.filter(starts_on__lte=window[1], ends_on__gte=window[0])
        .exclude(team=Team.MARKETING)
        .filter(Q(segment=send.segment) | Q(contact__in=members))
        .select_related("contact", "created_by")[:50]
    )


def send_recipient_counts(send: EmailSend) -> dict[str, int]:
    counts = dict.fromkeys(RecipientStatus.values, 0)
    for row in SendRecipient.objects.filter(send=send).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def sends_with_counts():
    return EmailSend.objects.select_related("segment", "template", "campaign").annotate(
        sent=Count("recipients", filter=Q(recipients__status=RecipientStatus.SENT)),
        held=Count("recipients", filter=Q(recipients__status=RecipientStatus.HELD)),
        suppressed=Count("recipients", filter=Q(recipients__status=RecipientStatus.SUPPRESSED)),
    )


@dataclass
class ContactOutreach:
    do_not_contact: bool
    consent_events: list
    opted_out_topics: list
    deliveries: list
    planned: list


def contact_outreach(contact) -> ContactOutreach:
    """The outreach panel of the 360° page: consent, what was sent or held, what is planned."""
    today = timezone.localdate()
    return ContactOutreach(
        do_not_contact=contact.do_not_contact,
        consent_events=list(ConsentEvent.objects.filter(contact=contact).select_related("topic", "actor")[:10]),
        opted_out_topics=[s.topic for s in ContactSubscription.objects.filter(contact=contact).select_related("topic")],
        deliveries=list(
            SendRecipient.objects.filter(contact=contact).select_related("send").order_by("-due_at")[:10]
        ),
        planned=list(
            PlannedOutreach.objects.filter(contact=contact, ends_on__gte=today).select_related("created_by")[:10]
        ),
    )


def contact_outreach_panel(contact, user) -> dict:
    """The 360° panel's context: consent, deliveries with hold reasons, planned outreach."""
    data = contact_outreach(contact)
    return {
        "contact_id": contact.pk,
        "do_not_contact": data.do_not_contact,
        "consent_events": data.consent_events,
        "opted_out_topics": data.opted_out_topics,
        "deliveries": data.deliveries,
        "planned": data.planned,
    }
