"""Writes on the shared record: contacts, accounts, opportunities and lifecycle moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import MoveRefused, Stage, check_move, is_forward
from accord.crm.models import (
    Account,
    Contact,
    ContactInterest,
    Opportunity,
    OpportunityStage,
    StageChange,
)


def contact_change_stage(
    *,
    contact: Contact,
    to_stage: str,
    actor=None,
    reason: str = "",
    source: str = StageChange.Source.MANUAL,
    at: datetime | None = None,
) -> StageChange:
    """Move a contact along its lifecycle, refusing moves the lifecycle does not allow."""
    try:
        check_move(contact.lifecycle_stage, to_stage, reason)
    except MoveRefused as refused:
        raise ValidationFailed.single("lifecycle_stage", refused.message) from None
    moment = at or now()
    with transaction.atomic():
        change = StageChange.objects.create(
            contact=contact,
            from_stage=contact.lifecycle_stage,
            to_stage=to_stage,
            changed_by=actor,
            changed_at=moment,
            reason=reason.strip(),
            source=source,
        )
        contact.lifecycle_stage = to_stage
        contact.stage_changed_at = moment
        contact.updated_at = moment
        contact.save(update_fields=["lifecycle_stage", "stage_changed_at", "updated_at"])
    return change


def contact_advance_stage(*, contact: Contact, to_stage: str, actor=None, reason: str = "", source: str) -> bool:
    """Move forward only; a no-op when the contact is already as far or further along."""
    if contact.lifecycle_stage == to_stage or not is_forward(contact.lifecycle_stage, to_stage):
        return False
    contact_change_stage(contact=contact, to_stage=to_stage, actor=actor, reason=reason, source=source)
    return True


@dataclass(frozen=True)
class ContactFields:
    """Validated values for a contact; None means "not given, leave as is"."""

    values: dict[str, object]
    interests: tuple[str, ...] | None = None


def contact_create(*, fields: ContactFields, actor=None, stage: str = Stage.LEAD, reason: str = "") -> Contact:
    moment = now()
    values = dict(fields.values)
    _check_email_free(values.get("email"), exclude_id=None)
    with transaction.atomic():
        contact = Contact.objects.create(
            **values, lifecycle_stage=stage, stage_changed_at=moment, created_at=moment, updated_at=moment
        )
        StageChange.objects.create(
            contact=contact,
            from_stage="",
            to_stage=stage,
            changed_by=actor,
            changed_at=moment,
            reason=reason or "created",
            source=StageChange.Source.MANUAL,
        )
        if fields.interests:
            contact_set_interests(contact=contact, names=fields.interests, actor=actor)
    return contact


def contact_update(*, contact: Contact, fields: ContactFields, actor=None) -> list[str]:
    """Apply the given fields; returns the names of fields that changed."""
    _check_email_free(fields.values.get("email"), exclude_id=contact.pk)
    changed = [name for name, value in fields.values.items() if getattr(contact, name) != value]
    with transaction.atomic():
        for name in changed:
            setattr(contact, name, fields.values[name])
        if changed:
            contact.updated_at = now()
            contact.save(update_fields=[*changed, "updated_at"])
        if fields.interests is not None:
            if contact_set_interests(contact=contact, names=fields.interests, actor=actor):
                changed.append("interests")
    return changed


def contact_set_interests(*, contact: Contact, names, actor=None) -> bool:
    wanted = {name.strip().lower() for name in names if name and name.strip()}
    existing = set(contact.interests.values_list("name", flat=True))
    if wanted == existing:
        return False
    contact.interests.filter(name__in=existing - wanted).delete()
    moment = now()
    ContactInterest.objects.bulk_create(
        [ContactInterest(contact=contact, name=name, added_by=actor, added_at=moment) for name in sorted(wanted - existing)]
    )
    return True


def _check_email_free(email, *, exclude_id) -> None:
    if not email:
        return
    taken = Contact.objects.filter(email=email)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationFailed.single("email", f"another contact already has the address {email}")


def account_create(*, values: dict, actor=None) -> Account:
    _check_domain_free(values.get("domain"), exclude_id=None)
    moment = now()
    return Account.objects.create(**values, created_at=moment, updated_at=moment)


def account_update(*, account: Account, values: dict, actor=None) -> list[str]:
    _check_domain_free(values.get("domain"), exclude_id=account.pk)
    changed = [name for name, value in values.items() if getattr(account, name) != value]
    for name in changed:
        setattr(account, name, values[name])
    if changed:
        account.updated_at = now()
        account.save(update_fields=[*changed, "updated_at"])
    return changed


def _check_domain_free(domain, *, exclude_id) -> None:
    if not domain:
        return
    taken = Account.objects.filter(domain=domain)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationFailed.single("domain", f"another account already has the domain {domain}")


def opportunity_create(*, values: dict, actor=None) -> Opportunity:
    """Open a deal; its primary contact moves to the opportunity stage (or customer if won)."""
    moment = now()
    values = dict(values)
    if values.get("account") is None and values.get("primary_contact") is not None:
        values["account"] = values["primary_contact"].account
    with transaction.atomic():
        opportunity = Opportunity.objects.create(**values, created_at=moment, updated_at=moment)
        _close_if_needed(opportunity, moment)
        _advance_contact_for(opportunity, actor)
    return opportunity


def opportunity_update(*, opportunity: Opportunity, values: dict, actor=None) -> list[str]:
    changed = [name for name, value in values.items() if getattr(opportunity, name) != value]
    if not changed:
        return []
    moment = now()
    with transaction.atomic():
        for name in changed:
            setattr(opportunity, name, values[name])
        opportunity.updated_at = moment
        extra = _close_if_needed(opportunity, moment)
        opportunity.save(update_fields=[*changed, *extra, "updated_at"])
        if "stage" in changed or "primary_contact" in changed:
            _advance_contact_for(opportunity, actor)
    return changed


def _close_if_needed(opportunity: Opportunity, moment: datetime) -> list[str]:
    if opportunity.is_closed and opportunity.closed_at is None:
        opportunity.closed_at = moment
        if opportunity.close_date is None:
            opportunity.close_date = moment.date()
            return ["closed_at", "close_date"]
        return ["closed_at"]
    if not opportunity.is_closed and opportunity.closed_at is not None:
        opportunity.closed_at = None
        return ["closed_at"]
    return []


def _advance_contact_for(opportunity: Opportunity, actor) -> None:
    contact = opportunity.primary_contact
    if contact is None:
        return
    if opportunity.stage == OpportunityStage.WON:
        contact_advance_stage(
            contact=contact,
            to_stage=Stage.CUSTOMER,
            actor=actor,
            reason=f"won {opportunity.name}",
            source=StageChange.Source.OPPORTUNITY,
        )
    elif opportunity.stage != OpportunityStage.LOST:
        if contact.lifecycle_stage in (Stage.RECYCLED, Stage.DISQUALIFIED):
            return  # a deal on a recycled person is a human call; the rep moves the stage
        contact_advance_stage(
            contact=contact,
            to_stage=Stage.OPPORTUNITY,
            actor=actor,
            reason=f"opened {opportunity.name}",
            source=StageChange.Source.OPPORTUNITY,
        )


def parse_money(raw, *, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except ArithmeticError:
        raise ValidationFailed.single(field, f"'{raw}' is not an amount") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValidationFailed.single(field, f"'{raw}' is not an amount between 0 and 999,999,999,999")
    return value.quantize(Decimal("0.01"))


def parse_date(raw, *, field: str) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        raise ValidationFailed.single(field, f"'{raw}' is not a date (use YYYY-MM-DD)") from None
