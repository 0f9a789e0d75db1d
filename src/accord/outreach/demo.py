"""Demo data for outreach: topics, the shared policy, segments built from Sales' interest tags,
a template, a scheduled send and some planned outreach by both teams (so the calendar shows
a collision)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db.models import Count

from accord.core.models import Team, User
from accord.crm.models import Contact, ContactInterest
from accord.outreach.models import ContactPolicy, PlannedOutreach, SubscriptionTopic
from accord.outreach.services import email_send_create, email_template_save, segment_save


def demo_load(*, seed: int, now: datetime, stdout) -> None:
    rng = random.Random(seed + 7)
    marketer = User.objects.filter(team=Team.MARKETING).order_by("id").first()
    rep = User.objects.filter(team=Team.SALES, role="sales").order_by("id").first()
    if marketer is None or rep is None:
        return
    for name, description in (
        ("Product news", "Releases and new features"),
        ("Events", "Webinars, meetups and conferences"),
        ("Customer stories", "Case studies and success stories"),
    ):
        SubscriptionTopic.objects.get_or_create(name=name, defaults={"description": description})
    if not ContactPolicy.objects.exists():
        ContactPolicy.objects.create(max_promotions=2, window_days=7, quiet_days_after_meeting=3, updated_at=now)
    top = list(
        ContactInterest.objects.values("name").annotate(n=Count("id")).order_by("-n").values_list("name", flat=True)[:2]
    )
    interest_segment = None
    if top:
        interest_segment = segment_save(
            name=f"Interested in {top[0]}", definition={"interests_any": [top[0]]}, actor=marketer,
            description="Built from the interest tags Sales records on calls",
        )
    nurture = segment_save(name="Leads to nurture", definition={"stages": ["lead", "recycled"]}, actor=marketer)
    template = email_template_save(
        name="Monthly product news",
        subject="{{ first_name }}, what's new this month",
        body_text="Hi {{ first_name }},\n\nHere is what shipped this month, with a note on {{ top_interest }}.\n",
        body_html="<p>Hi {{ first_name }},</p><p>Here is what shipped this month, with a note on {{ top_interest }}.</p>",
        actor=marketer,
    )
    topic = SubscriptionTopic.objects.get(name="Product news")
    send = email_send_create(
        name="December product news", segment=interest_segment or nurture, template=template, actor=marketer, topic=topic,
    )
    send.status, send.scheduled_for = "scheduled", now + timedelta(days=3)
    send.save(update_fields=["status", "scheduled_for"])
    email_send_create(name="Nurture: getting started guide", segment=nurture, template=template, actor=marketer, topic=topic)
    people = list(Contact.objects.filter(owner=rep).order_by("id")[:5])
    planned = [
        PlannedOutreach(
            title=f"Follow-up calls: {person}", team=Team.SALES, kind="call", contact=person,
            starts_on=(now + timedelta(days=rng.randint(0, 10))).date(),
            ends_on=(now + timedelta(days=rng.randint(11, 14))).date(), created_by=rep, created_at=now,
        )
        for person in people
    ]
    if interest_segment:
        planned.append(
            PlannedOutreach(
                title="Sales promo: year-end discount", team=Team.SALES, kind="email", segment=interest_segment,
                starts_on=(now + timedelta(days=2)).date(), ends_on=(now + timedelta(days=5)).date(),
                created_by=rep, created_at=now,
            )
        )
    PlannedOutreach.objects.bulk_create(planned)
    stdout.write(f"outreach: 2 segments, 1 scheduled send, {len(planned)} planned outreach items")
