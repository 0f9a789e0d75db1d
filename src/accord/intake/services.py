"""The one capture pipeline. Every lead — API, web form, CSV import, demo data — comes in here.

It reads top to bottom, the same for one lead or ten thousand (the single capture is a batch
of one, so both always behave alike):

    normalize (done by intake.leads) → find an existing contact → create or update it →
    attach or create its account → record a touchpoint with its campaign → keep first and
    latest touch → move the lifecycle forward when the lead says so.

Every step works on the whole batch with a fixed number of queries, never one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.crm.lifecycle import MoveRefused, Stage, check_move, is_forward
from accord.crm.models import Account, Contact, ContactInterest, StageChange
from accord.handoff.services import handoffs_open_for
from accord.campaigns.channels import infer_channel
from accord.intake.leads import LeadInput
from accord.dedup.services import capture_followup, scan_request
from accord.intake.matching import get_matcher

DEFAULT_BATCH_SIZE = 2000
_ACCOUNT_FILLABLE = ("industry", "employee_count", "annual_revenue", "country")


@dataclass
class CaptureOutcome:
    lead: LeadInput
    contact: Contact | None = None
    touchpoint: Touchpoint | None = None
    created: bool = False
    changed_fields: list[str] = field(default_factory=list)
    stage_change: StageChange | None = None
    error: ValidationFailed | None = None

    @property
    def updated(self) -> bool:
        return not self.created and self.error is None and bool(self.changed_fields or self.touchpoint)


@dataclass
class BulkCaptureSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, ValidationFailed]] = field(default_factory=list)  # (position, error)


def contact_capture(*, lead: LeadInput, actor=None, source: str = StageChange.Source.CAPTURE) -> CaptureOutcome:
    """Capture one lead; raises ValidationFailed when it refers to something that does not exist."""
    (outcome,) = leads_capture(leads=[lead], actor=actor, source=source)
    if outcome.error is not None:
        raise outcome.error
    return outcome


def leads_capture_bulk(
    *,
    leads: Iterable[tuple[int, LeadInput]],
    actor=None,
    source: str = StageChange.Source.IMPORT,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> BulkCaptureSummary:
    """Capture a stream of (position, lead) pairs in batches; each batch commits on its own."""
    summary = BulkCaptureSummary()
    batch: list[tuple[int, LeadInput]] = []

    def flush() -> None:
        outcomes = leads_capture(leads=[lead for _, lead in batch], actor=actor, source=source)
        for (position, _), outcome in zip(batch, outcomes, strict=True):
            if outcome.error is not None:
                summary.rejected.append((position, outcome.error))
            elif outcome.created:
                summary.created += 1
            elif outcome.updated:
                summary.updated += 1
            else:
                summary.unchanged += 1
        if on_batch:
            on_batch(len(batch))
        batch.clear()

    for item in leads:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if summary.created:
        # New records may duplicate each other or older ones in ways only the whole base shows.
        scan_request(actor=actor, reason="after an import")
    return summary


def leads_capture(*, leads: Sequence[LeadInput], actor=None, source: str) -> list[CaptureOutcome]:
    """Run the pipeline over one batch in one transaction.

    Two captures racing to create the same person or company make one of them hit a unique
    constraint; it then runs again and finds what the other created.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                outcomes = _capture_batch(leads, actor=actor, source=source)
                _hand_off(outcomes, actor=actor)
                return outcomes
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _hand_off(outcomes: list[CaptureOutcome], *, actor) -> None:
    """The last step: leads that are MQL now go to Sales (routed, SLA clock started)."""
    mqls = [o.contact for o in outcomes if o.error is None and o.contact.lifecycle_stage == Stage.MQL]
    if mqls:
        handoffs_open_for(contacts=mqls, actor=actor)


def _capture_batch(leads: Sequence[LeadInput], *, actor, source: str) -> list[CaptureOutcome]:
    moment = now()
    outcomes = [CaptureOutcome(lead=lead) for lead in leads]
    campaigns = _resolve_campaigns(outcomes)
    live = [outcome for outcome in outcomes if outcome.error is None]

    # Who each lead is: the existing contact the matcher found (by email, phone, external id,
    # or fuzzily above its high threshold), else a new contact. Leads are keyed by the contact
    # they become, so several rows for one person in a batch update one contact.
    matches = get_matcher().match_leads([outcome.lead for outcome in live])
    existing: dict[str, Contact] = {}
    keys: dict[int, str] = {}
    for outcome, match in zip(live, matches, strict=True):
        if match.contact is not None:
            key = f"c{match.contact.pk}"
            existing[key] = match.contact
        elif outcome.lead.email and not match.drop_email:
            key = f"e{outcome.lead.email}"
        else:
            key = f"r{id(outcome)}"
        keys[id(outcome)] = key
    accounts = _resolve_accounts(live, existing, keys, moment)

    contacts: dict[str, Contact] = {}
    changed: dict[str, set[str]] = {}
    new_keys: list[str] = []
    stage_moves: list[StageChange] = []
    review: list[tuple[str, int, float, list[int]]] = []
    for outcome, match in zip(live, matches, strict=True):
        lead = outcome.lead
        key = keys[id(outcome)]
        contact = contacts.get(key) or existing.get(key)
        values = dict(lead.contact)
        if match.drop_email:
            values.pop("email", None)
        if contact is not None and contact.email and match.how not in ("", "email"):
            # Found by another key: the address the contact already has stays its address.
            values.pop("email", None)
        if contact is None:
            contact = Contact(
                **values,
                lifecycle_stage=lead.lifecycle_stage or Stage.LEAD,
                stage_changed_at=moment,
                created_at=moment,
                updated_at=moment,
            )
            new_keys.append(key)
            outcome.created = True
            outcome.changed_fields = sorted(values)
            outcome.stage_change = StageChange(
                contact=contact,
                from_stage="",
                to_stage=contact.lifecycle_stage,
                changed_by=actor,
                changed_at=moment,
                reason=f"created by {source}",
                source=source,
            )
            stage_moves.append(outcome.stage_change)
            changed[key] = set()
        else:
            fields = changed.setdefault(key, set())
            # A filled field is never emptied: the lead carries only the values it has.
            for name, value in values.items():
                if getattr(contact, name) != value:
                    setattr(contact, name, value)
                    fields.add(name)
                    outcome.changed_fields.append(name)
            move = _forward_move(contact, lead.lifecycle_stage, actor=actor, source=source, at=moment)
            if move is not None:
                stage_moves.append(move)
                outcome.stage_change = move
                fields.update({"lifecycle_stage", "stage_changed_at"})
                outcome.changed_fields.append("lifecycle_stage")
        if outcome.created or key not in existing:
            # A grey-zone match: the new contact is kept and the pair goes to the review queue.
            review.extend((key, contact_id, probability, levels) for contact_id, probability, levels in match.review)
        contacts[key] = contact
        outcome.contact = contact
        account = accounts.get(id(outcome))
        if contact.account_id is None and account is not None:
            contact.account = account
            changed[key].add("account")
            outcome.changed_fields.append("account")

    touchpoints = _build_touchpoints(live, campaigns, actor=actor, moment=moment)
    for outcome in live:
        touchpoint = touchpoints.get(id(outcome))
        if touchpoint is None:
            continue
        outcome.touchpoint = touchpoint
        contact = outcome.contact
        fields = changed[keys[id(outcome)]]
        if contact.first_touch_at is None or touchpoint.occurred_at < contact.first_touch_at:
            contact.first_touch_at = touchpoint.occurred_at
            contact.first_touch_campaign = touchpoint.campaign
            contact.first_touch_channel = touchpoint.channel
            fields.update({"first_touch_at", "first_touch_campaign", "first_touch_channel"})
        if contact.latest_touch_at is None or touchpoint.occurred_at >= contact.latest_touch_at:
            contact.latest_touch_at = touchpoint.occurred_at
            contact.latest_touch_campaign = touchpoint.campaign
            contact.latest_touch_channel = touchpoint.channel
            fields.update({"latest_touch_at", "latest_touch_campaign", "latest_touch_channel"})

    Contact.objects.bulk_create([contacts[key] for key in new_keys])
    _save_changed_contacts(contacts, changed, new_keys, moment)
    # Django binds the new contacts' ids into these rows as it saves them.
    StageChange.objects.bulk_create(stage_moves)
    Touchpoint.objects.bulk_create(touchpoints.values())
    _add_interests(live, actor=actor, moment=moment)
    capture_followup(
        contact_ids={contact.pk for contact in contacts.values()},
        review=[(contacts[key].pk, contact_id, probability, levels) for key, contact_id, probability, levels in review],
    )
    return outcomes


def _forward_move(contact: Contact, to_stage: str, *, actor, source: str, at) -> StageChange | None:
    if not to_stage or to_stage == contact.lifecycle_stage or not is_forward(contact.lifecycle_stage, to_stage):
        return None
    try:
        check_move(contact.lifecycle_stage, to_stage, "")
    except MoveRefused:
        return None
    move = StageChange(
        contact=contact,
        from_stage=contact.lifecycle_stage,
        to_stage=to_stage,
        changed_by=actor,
        changed_at=at,
        reason=f"advanced by {source}",
        source=source,
    )
    contact.lifecycle_stage = to_stage
    contact.stage_changed_at = at
    return move


def _resolve_campaigns(outcomes: list[CaptureOutcome]) -> dict[int, Campaign]:
    """Campaign for each lead (by id of the outcome): an explicit id wins, else its UTM campaign."""
    ids = {o.lead.campaign_id for o in outcomes if o.lead.campaign_id}
    utms = {o.lead.utm_campaign for o in outcomes if not o.lead.campaign_id and o.lead.utm_campaign}
    by_id = {c.pk: c for c in Campaign.objects.filter(pk__in=ids)} if ids else {}
    by_utm = {c.utm_campaign: c for c in Campaign.objects.filter(utm_campaign__in=utms)} if utms else {}
    resolved: dict[int, Campaign] = {}
    for outcome in outcomes:
        lead = outcome.lead
        if lead.campaign_id:
            campaign = by_id.get(lead.campaign_id)
            if campaign is None:
                outcome.error = ValidationFailed.single("campaign_id", f"there is no campaign with id {lead.campaign_id}")
                continue
            resolved[id(outcome)] = campaign
        elif lead.utm_campaign in by_utm:
            resolved[id(outcome)] = by_utm[lead.utm_campaign]
    return resolved


def _resolve_accounts(
    live: list[CaptureOutcome], existing: dict[str, Contact], keys: dict[int, str], moment
) -> dict[int, Account]:
    """The account for each lead whose contact has none yet: found by domain, else by name."""
    wanting = [
        o
        for o in live
        if (o.lead.company_domain or o.lead.company_name)
        and (keys[id(o)] not in existing or existing[keys[id(o)]].account_id is None)
    ]
    if not wanting:
        return {}
    domains = {o.lead.company_domain for o in wanting if o.lead.company_domain}
    names = {o.lead.company_name.lower() for o in wanting if not o.lead.company_domain and o.lead.company_name}
    by_domain = {a.domain: a for a in Account.objects.filter(domain__in=domains)} if domains else {}
    by_name: dict[str, Account] = {}
    if names:
        for account in Account.objects.annotate(name_lower=Lower("name")).filter(name_lower__in=names).order_by("id"):
            by_name.setdefault(account.name_lower, account)

    created: list[Account] = []
    touched: dict[int, set[str]] = {}
    resolved: dict[int, Account] = {}
    for outcome in wanting:
        lead = outcome.lead
        if lead.company_domain:
            account = by_domain.get(lead.company_domain)
        else:
            account = by_name.get(lead.company_name.lower())
        if account is None:
            name = lead.company_name or lead.company_domain
            account = Account(name=name, domain=lead.company_domain, created_at=moment, updated_at=moment, **lead.company)
            created.append(account)
            if lead.company_domain:
                by_domain[lead.company_domain] = account
            else:
                by_name[name.lower()] = account
        else:
            for name, value in lead.company.items():
                if getattr(account, name) in (None, "") and value not in (None, ""):
                    setattr(account, name, value)
                    if account.pk:
                        touched.setdefault(account.pk, set()).add(name)
        resolved[id(outcome)] = account
    Account.objects.bulk_create(created)
    if touched:
        fields = sorted(set().union(*touched.values()))
        updated = {a.pk: a for a in [*by_domain.values(), *by_name.values()] if a.pk in touched}
        for account in updated.values():
            account.updated_at = moment
        Account.objects.bulk_update(list(updated.values()), [*fields, "updated_at"])
    return resolved


def _build_touchpoints(live: list[CaptureOutcome], campaigns: dict[int, Campaign], *, actor, moment) -> dict[int, Touchpoint]:
    keys = {o.lead.dedupe_key for o in live if o.lead.dedupe_key}
    seen = set(Touchpoint.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)) if keys else set()
    actor_team = getattr(actor, "team", None) or Team.MARKETING
    built: dict[int, Touchpoint] = {}
    for outcome in live:
        lead = outcome.lead
        if lead.dedupe_key:
            if lead.dedupe_key in seen:
                continue
            seen.add(lead.dedupe_key)
        campaign = campaigns.get(id(outcome))
        channel = lead.channel or (campaign.channel if campaign else "") or infer_channel(
            kind=lead.kind, utm_medium=lead.utm_medium, utm_source=lead.utm_source
        )
        built[id(outcome)] = Touchpoint(
            contact=outcome.contact,
            campaign=campaign,
            kind=lead.kind,
            channel=channel,
            team=lead.team or actor_team,
            actor=actor,
            occurred_at=lead.occurred_at or moment,
            url=lead.url,
            utm_source=lead.utm_source,
            utm_medium=lead.utm_medium,
            utm_campaign=lead.utm_campaign,
            subject=lead.subject,
            body=lead.note,
            dedupe_key=lead.dedupe_key,
            created_at=moment,
        )
    return built


def _save_changed_contacts(contacts: dict[str, Contact], changed: dict[str, set[str]], new_keys, moment) -> None:
    new = set(new_keys)
    keys = [key for key, fields in changed.items() if fields and key not in new]
    if not keys:
        return
    to_update = [contacts[key] for key in keys]
    fields = sorted(set().union(*(changed[key] for key in keys)))
    for contact in to_update:
        contact.updated_at = moment
    Contact.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=500)


def _add_interests(live: list[CaptureOutcome], *, actor, moment) -> None:
    rows = {
        (outcome.contact.pk, tag): ContactInterest(contact=outcome.contact, name=tag, added_by=actor, added_at=moment)
        for outcome in live
        for tag in outcome.lead.interests
    }
    if rows:
        ContactInterest.objects.bulk_create(rows.values(), ignore_conflicts=True)
