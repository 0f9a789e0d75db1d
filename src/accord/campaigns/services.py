"""Writes on campaigns and the touchpoint log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from accord.campaigns.channels import infer_channel
from accord.campaigns.models import Campaign, Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.crm.models import Contact

_UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


def campaign_create(*, values: dict[str, Any], actor=None) -> Campaign:
    values = _clean_campaign_values(values)
    _check_campaign(values, campaign=None)
    moment = now()
    return Campaign.objects.create(**values, created_at=moment, updated_at=moment)


def campaign_update(*, campaign: Campaign, values: dict[str, Any], actor=None) -> list[str]:
    """Apply the given fields; returns the names of those that changed."""
    values = _clean_campaign_values(values)
    _check_campaign(values, campaign=campaign)
    changed = [name for name, value in values.items() if getattr(campaign, name) != value]
    for name in changed:
        setattr(campaign, name, values[name])
    if changed:
        campaign.updated_at = now()
        campaign.save(update_fields=[*changed, "updated_at"])
    return changed


def _clean_campaign_values(values: dict[str, Any]) -> dict[str, Any]:
    # UTM values are kept lower-cased so a landing URL resolves to its campaign exactly.
    return {name: value.strip().lower() if name in _UTM_FIELDS and value else value for name, value in values.items()}


def _check_campaign(values: dict[str, Any], *, campaign: Campaign | None) -> None:
    errors: dict[str, str] = {}
    start = values.get("start_date", getattr(campaign, "start_date", None))
    end = values.get("end_date", getattr(campaign, "end_date", None))
    if start and end and end < start:
        errors["end_date"] = "must not be before start_date"
    utm_campaign = values.get("utm_campaign")
    if utm_campaign:
        taken = Campaign.objects.filter(utm_campaign=utm_campaign)
        if campaign is not None:
            taken = taken.exclude(pk=campaign.pk)
        if taken.exists():
            errors["utm_campaign"] = f"another campaign already uses utm_campaign '{utm_campaign}'"
    if errors:
        raise ValidationFailed(errors)


def touchpoint_record(
    *,
    contact: Contact,
    kind: str,
    actor=None,
    team: str = "",
    campaign: Campaign | None = None,
    channel: str = "",
    occurred_at: datetime | None = None,
    url: str = "",
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    subject: str = "",
    body: str = "",
    metadata: dict | None = None,
) -> Touchpoint:
    """Append one interaction to the log and keep the contact's first and latest touch.

    The team defaults to the actor's; the channel to the campaign's, else one inferred from
    the kind and UTM values.
    """
    moment = now()
    at = occurred_at or moment
    utm = {"utm_source": utm_source.lower(), "utm_medium": utm_medium.lower(), "utm_campaign": utm_campaign.lower()}
    channel = channel or (campaign.channel if campaign else "") or infer_channel(
        kind=kind, utm_medium=utm["utm_medium"], utm_source=utm["utm_source"]
    )
    with transaction.atomic():
        touchpoint = Touchpoint.objects.create(
            contact=contact,
            campaign=campaign,
            kind=kind,
            channel=channel,
            team=team or getattr(actor, "team", "") or Team.MARKETING,
            actor=actor,
            occurred_at=at,
            url=url,
            subject=subject,
            body=body,
            metadata=metadata or {},
            created_at=moment,
            **utm,
        )
        # Conditional updates, so two touchpoints recorded at once cannot overwrite a later one.
        Contact.objects.filter(Q(first_touch_at__isnull=True) | Q(first_touch_at__gt=at), pk=contact.pk).update(
            first_touch_at=at, first_touch_campaign=campaign, first_touch_channel=channel
        )
        Contact.objects.filter(Q(latest_touch_at__isnull=True) | Q(latest_touch_at__lte=at), pk=contact.pk).update(
            latest_touch_at=at, latest_touch_campaign=campaign, latest_touch_channel=channel
        )
    return touchpoint


# What a person records by hand on a contact's page; everything else arrives by capture.
LOGGABLE_KINDS = (TouchpointKind.CALL, TouchpointKind.SALES_EMAIL, TouchpointKind.MEETING, TouchpointKind.NOTE)


def touchpoint_log(
    *,
    contact: Contact,
    kind: str,
    actor,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """A call, email, meeting or note ``actor`` had with ``contact``, on their team's side."""
    if kind not in LOGGABLE_KINDS:
        raise ValidationFailed.single("kind", f"'{kind}' cannot be logged by hand; use call, sales_email, meeting or note")
    if occurred_at is not None and occurred_at > now():
        raise ValidationFailed.single("occurred_at", "is in the future; log what already happened")
    if not subject.strip() and not body.strip():
        raise ValidationFailed.single("body", "say what happened (a subject or a note)")
    return touchpoint_record(
        contact=contact, kind=kind, actor=actor, occurred_at=occurred_at, subject=subject.strip(), body=body.strip()
    )
