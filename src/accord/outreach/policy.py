"""The one place that decides whether a message may go to a contact now.

Every send passes through ``audience_classify``: suppression first (do-not-contact, topic
opt-out, no address), then the contact policy shared by both teams (active sales cycle,
quiet days around a sales meeting, the cap that counts marketing sends *and* Sales' own
emails and calls). It works set-wise: one aggregate query over the whole audience, however
large, then pure Python over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet

from accord.campaigns.models import Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.models import Team
from accord.crm.lifecycle import Stage
from accord.crm.models import OPEN_OPPORTUNITY_STAGES, Contact, Opportunity
from accord.outreach.models import ContactPolicy, ContactSubscription, PromotionAllowance

# Stages in which Sales is actively working the lead (an accepted handoff moves it to SAL).
SALES_CYCLE_STAGES = (Stage.SAL, Stage.SQL, Stage.OPPORTUNITY)
MARKETING_SEND_KINDS = (TouchpointKind.EMAIL_SENT,)
SALES_TOUCH_KINDS = (TouchpointKind.SALES_EMAIL, TouchpointKind.CALL)


class Verdict:
    SEND = "send"
    SUPPRESSED = "suppressed"
    HELD = "held"


@dataclass(frozen=True)
class Decision:
    contact_id: int
    verdict: str
    code: str = ""
    reason: str = ""
    # For held messages: when the policy would let it go, at the earliest.
    retry_at: datetime | None = None


def policy_in_force() -> ContactPolicy:
    policy = ContactPolicy.objects.order_by("-updated_at", "-id").first()
    return policy or ContactPolicy(updated_at=now())


def audience_classify(
    *,
    contacts: QuerySet[Contact],
    promotional: bool,
    topic_id: int | None,
    at: datetime | None = None,
    policy: ContactPolicy | None = None,
) -> list[Decision]:
    """A decision for every contact in ``contacts``, computed with a single query."""
    moment = at or now()
    policy = policy or policy_in_force()
    window_start = moment - timedelta(days=policy.window_days)
    quiet = timedelta(days=policy.quiet_days_after_meeting)
    counted_kinds = Q(touchpoints__kind__in=MARKETING_SEND_KINDS, touchpoints__team=Team.MARKETING)
    if policy.count_sales_touches:
        counted_kinds |= Q(touchpoints__kind__in=SALES_TOUCH_KINDS, touchpoints__team=Team.SALES)
    counted = counted_kinds & Q(touchpoints__occurred_at__gte=window_start, touchpoints__occurred_at__lte=moment)
    meetings = Q(
        touchpoints__kind=TouchpointKind.MEETING,
        touchpoints__occurred_at__gte=moment - quiet,
        touchpoints__occurred_at__lte=moment + quiet,
    )
    rows = (
        contacts.order_by()
        .annotate(
            recent_count=Count("touchpoints", filter=counted),
            oldest_recent=Min("touchpoints__occurred_at", filter=counted),
            nearest_meeting=Max("touchpoints__occurred_at", filter=meetings),
            open_opportunity=Exists(
                Opportunity.objects.filter(primary_contact=OuterRef("pk"), stage__in=OPEN_OPPORTUNITY_STAGES)
            ),
            allowed_by_owner=Exists(PromotionAllowance.objects.filter(contact=OuterRef("pk"))),
            opted_out=Exists(ContactSubscription.objects.filter(contact=OuterRef("pk"), topic_id=topic_id or 0)),
        )
        .values_list(
            "id",
            "email",
            "do_not_contact",
            "lifecycle_stage",
            "recent_count",
            "oldest_recent",
            "nearest_meeting",
            "open_opportunity",
            "allowed_by_owner",
            "opted_out",
        )
    )
    decisions = []
    for cid, email, dnc, stage, recent, oldest, meeting, open_opp, allowed, opted_out in rows.iterator(chunk_size=5000):
        decisions.append(
            _decide(
                cid,
                email=email,
                do_not_contact=dnc,
                stage=stage,
                recent=recent,
                oldest=oldest,
                meeting=meeting,
                open_opportunity=open_opp,
                allowed=allowed,
                opted_out=opted_out,
                promotional=promotional,
                policy=policy,
                moment=moment,
            )
        )
    return decisions


def _decide(cid, *, email, do_not_contact, stage, recent, oldest, meeting, open_opportunity, allowed, opted_out, promotional, policy, moment) -> Decision:
    if do_not_contact:
        return Decision(cid, Verdict.SUPPRESSED, "do_not_contact", "on the do-not-contact list")
    if not email:
        return Decision(cid, Verdict.SUPPRESSED, "no_email", "has no email address")
    if opted_out:
        return Decision(cid, Verdict.SUPPRESSED, "topic_opt_out", "unsubscribed from this topic")
    if not promotional:
        return Decision(cid, Verdict.SEND)
    if policy.pause_during_sales_cycle and (stage in SALES_CYCLE_STAGES or open_opportunity) and not allowed:
        why = "has an open opportunity" if open_opportunity else f"is in an active sales cycle ({stage.upper()})"
        return Decision(
            cid,
            Verdict.HELD,
            "sales_cycle",
            f"{why}; promotions pause unless the owner allows them",
            moment + timedelta(days=1),
        )
    if meeting is not None:
        until = meeting + timedelta(days=policy.quiet_days_after_meeting)
        return Decision(
            cid,
            Verdict.HELD,
            "meeting",
            f"sales meeting on {meeting:%Y-%m-%d}; no promotion within {policy.quiet_days_after_meeting} days of it",
            until,
        )
    if recent >= policy.max_promotions:
        until = oldest + timedelta(days=policy.window_days)
        return Decision(
            cid,
            Verdict.HELD,
            "frequency",
            f"already contacted {recent} times in {policy.window_days} days by both teams "
            f"(limit {policy.max_promotions})",
            until,
        )
    return Decision(cid, Verdict.SEND)
