"""The one capture pipeline. Every lead — API, web form, CSV import, demo data — comes in here.

It reads top to bottom, the same for one lead or ten thousand (the single capture is a batch
of one, so both always behave alike):

    normalize (done by intake.leads) → find an existing contact → create or update it →
    attach or create its account → record a touchpoint with its campaign → keep first and
    latest touch → move the lifecycle forward when the lead says so → rescore the batch's
    contacts under the active scoring model (moving those who cross the MQL line to MQL).

Every step works on the whole batch with a fixed number of queries, never one per row. New
rows (contacts, stage changes, touchpoints, accounts) are written as plain tuples by
``intake.bulk_insert`` — building a model instance per row and compiling it through
``bulk_create`` cost more than all the rest of the pipeline; the outcome's ``contact`` and
``touchpoint`` are built only when a caller looks at them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import NOT_PROVIDED

from accord.campaigns.channels import infer_channel
from accord.campaigns.models import Campaign, Touchpoint
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.crm.lifecycle import MoveRefused, Stage, check_move, is_forward
from accord.crm.models import Account, Contact, ContactInterest, StageChange
from accord.handoff.services import handoffs_open_for
from accord.intake.bulk_insert import checkpoints_spaced, collected_between_batches, rows_insert, rows_update
from accord.intake.leads import LeadInput
from accord.intake.queries import accounts_by_domain, accounts_by_lower_name, touchpoint_keys_recorded
from accord.dedup.keys import Person
from accord.dedup.matching import LeadMatch
from accord.dedup.queries import PERSON_COLUMNS
from accord.dedup.services import capture_followup, scan_request
from accord.intake.matching import get_matcher
from accord.scoring.services import scores_rescore

DEFAULT_BATCH_SIZE = 2000
_ACCOUNT_FILLABLE = ("industry", "employee_count", "annual_revenue", "country")
# The contact fields duplicate detection reads a person from (its account by name and domain).
_KEYED_FIELDS = frozenset(
    "account_id" if name.startswith("account__") else name for name in PERSON_COLUMNS if name != "id"
)
# Those of them read from the contact's own values (the account is compared by itself).
_PERSON_FIELDS = _KEYED_FIELDS - {"account_id"}


def _insert_columns(model) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Every column but the id (by attname) and the value a new row gets when none is given."""
    columns, defaults = [], {}
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(model_field.attname)
        if model_field.default is not NOT_PROVIDED:
            defaults[model_field.attname] = model_field.get_default()
        else:
            defaults[model_field.attname] = None
    return tuple(columns), defaults


_CONTACT_COLUMNS, _CONTACT_DEFAULTS = _insert_columns(Contact)
_TOUCHPOINT_COLUMNS, _TOUCHPOINT_DEFAULTS = _insert_columns(Touchpoint)
_contact_row = itemgetter(*_CONTACT_COLUMNS)
_touchpoint_row_values = itemgetter(*_TOUCHPOINT_COLUMNS)
_STAGE_COLUMNS = ("contact_id", "from_stage", "to_stage", "changed_by_id", "changed_at", "reason", "source")
_FIRST_TOUCH_FIELDS = frozenset({"first_touch_at", "first_touch_campaign_id", "first_touch_channel"})
_LATEST_TOUCH_FIELDS = frozenset({"latest_touch_at", "latest_touch_campaign_id", "latest_touch_channel"})
_ACCOUNT_COLUMNS, _ACCOUNT_DEFAULTS = _insert_columns(Account)


class _NewContact:
    """A contact this batch creates: its values until it is written, then its id."""

    __slots__ = ("values", "pk", "account", "_instance", "_matched")

    def __init__(self, values: dict[str, Any], *, lead: LeadInput, match: LeadMatch):
        self.values = values
        self.pk: int | None = None
        self.account: _AccountRow | None = None
        self._instance: Contact | None = None
        # The lead it is made of as the matcher saw it, until another lead changes a field.
        self._matched: tuple[LeadInput, Person | None, list[str] | None] | None = (lead, match.person, match.keys)

    def get(self, name: str) -> Any:
        return self.values.get(name, _CONTACT_DEFAULTS.get(name))

    def set(self, name: str, value: Any) -> None:
        if name in _PERSON_FIELDS:
            self._matched = None
        self.values[name] = value

    def set_many(self, values: dict[str, Any]) -> None:
        if not _PERSON_FIELDS.isdisjoint(values):
            self._matched = None
        self.values.update(values)

    def row(self) -> tuple:
        return _contact_row({**_CONTACT_DEFAULTS, **self.values})

    def person(self) -> tuple[Person, list[str] | None]:
        """The contact as duplicate detection sees it, as it was written (account included), and
        its blocking keys when the matcher made them from the very same values."""
        values, account = self.values, self.account
        email = values.get("email", "")
        company = account.name if account is not None else ""
        domain = account.domain if account is not None else ""
        if self._matched is not None:
            lead, person, keys = self._matched
            if person is not None and lead.email == email and lead.company_name == company and lead.company_domain == domain:
                return person, keys
        return Person.from_contact_values(values, email=email, company=company, domain=domain), None

    def instance(self) -> Contact:
        if self._instance is None:
            self._instance = Contact(pk=self.pk, **self.values)
            self._instance._state.adding = False
        return self._instance


class _KnownContact:
    """A contact that already exists; changes go straight onto the instance."""

    __slots__ = ("contact",)

    def __init__(self, contact: Contact):
        self.contact = contact

    @property
    def pk(self) -> int:
        return self.contact.pk

    def get(self, name: str) -> Any:
        return getattr(self.contact, name)

    def set(self, name: str, value: Any) -> None:
        setattr(self.contact, name, value)

    def set_many(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(self.contact, name, value)

    def instance(self) -> Contact:
        return self.contact


class CaptureOutcome:
    """What happened to one lead. ``contact``, ``touchpoint`` and ``stage_change`` are model
    instances, built on first access."""

    def __init__(self, lead: LeadInput):
        self.lead = lead
        self.created = False
        self.changed_fields: list[str] = []
        self.error: ValidationFailed | None = None
        self._record: _NewContact | _KnownContact | None = None
        self._touchpoint_values: dict[str, Any] | None = None
        self._touchpoint_id: int | None = None
        self._touchpoint: Touchpoint | None = None
        self._stage_values: dict[str, Any] | None = None
        self._stage_change: StageChange | None = None

    @property
    def contact(self) -> Contact | None:
        return None if self._record is None else self._record.instance()

    @property
    def touchpoint(self) -> Touchpoint | None:
        if self._touchpoint is None and self._touchpoint_values is not None:
            touchpoint = Touchpoint(pk=self._touchpoint_id, contact_id=self._record.pk, **self._touchpoint_values)
            touchpoint._state.adding = False
            self._touchpoint = touchpoint
        return self._touchpoint

    @property
    def stage_change(self) -> StageChange | None:
        if self._stage_change is None and self._stage_values is not None:
            self._stage_change = StageChange(contact_id=self._record.pk, **self._stage_values)
        return self._stage_change

    @property
    def updated(self) -> bool:
        return not self.created and self.error is None and bool(self.changed_fields or self._touchpoint_values)


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

    with checkpoints_spaced(), collected_between_batches() as collect:
        for item in leads:
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
                collect()
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
    mqls = [o.contact for o in outcomes if o.error is None and o._record.get("lifecycle_stage") == Stage.MQL]
    if mqls:
        handoffs_open_for(contacts=mqls, actor=actor)


def _capture_batch(leads: Sequence[LeadInput], *, actor, source: str) -> list[CaptureOutcome]:
    moment = now()
    actor_id = actor.pk if actor is not None else None
    outcomes = [CaptureOutcome(lead) for lead in leads]
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

    records: dict[str, _NewContact | _KnownContact] = {}
    changed: dict[str, set[str]] = {}
    new_records: list[_NewContact] = []
    stage_moves: list[CaptureOutcome] = []
    review: list[tuple[str, int, float, list[int]]] = []
    for outcome, match in zip(live, matches, strict=True):
        lead = outcome.lead
        key = keys[id(outcome)]
        record = records.get(key)
        if record is None and key in existing:
            record = _KnownContact(existing[key])
        values = dict(lead.contact)
        if match.drop_email:
            values.pop("email", None)
        if record is not None and record.get("email") and match.how not in ("", "email"):
            # Found by another key: the address the contact already has stays its address.
            values.pop("email", None)
        if record is None:
            stage = lead.lifecycle_stage or Stage.LEAD
            record = _NewContact(
                {**values, "lifecycle_stage": stage, "stage_changed_at": moment, "created_at": moment, "updated_at": moment},
                lead=lead,
                match=match,
            )
            new_records.append(record)
            outcome.created = True
            outcome.changed_fields = sorted(values)
            outcome._stage_values = {
                "from_stage": "",
                "to_stage": stage,
                "changed_by_id": actor_id,
                "changed_at": moment,
                "reason": f"created by {source}",
                "source": source,
            }
            stage_moves.append(outcome)
            changed[key] = set()
        else:
            fields = changed.setdefault(key, set())
            # A filled field is never emptied: the lead carries only the values it has.
            for name, value in values.items():
                if record.get(name) != value:
                    record.set(name, value)
                    fields.add(name)
                    outcome.changed_fields.append(name)
            move = _forward_move(record, lead.lifecycle_stage, actor_id=actor_id, source=source, at=moment)
            if move is not None:
                outcome._stage_values = move
                stage_moves.append(outcome)
                fields.update({"lifecycle_stage", "stage_changed_at"})
                outcome.changed_fields.append("lifecycle_stage")
        if outcome.created or key not in existing:
            # A grey-zone match: the new contact is kept and the pair goes to the review queue.
            review.extend((key, contact_id, probability, levels) for contact_id, probability, levels in match.review)
        records[key] = record
        outcome._record = record
        account = accounts.get(id(outcome))
        if record.get("account_id") is None and account is not None:
            record.set("account_id", account.pk)
            if isinstance(record, _NewContact):
                record.account = account
            changed[key].add("account_id")
            outcome.changed_fields.append("account")

    touchpoints = _build_touchpoints(live, campaigns, actor_id=actor_id, actor_team=getattr(actor, "team", None), moment=moment)
    for outcome in touchpoints:
        values = outcome._touchpoint_values
        record = outcome._record
        fields = changed[keys[id(outcome)]]
        occurred_at = values["occurred_at"]
        first_at = record.get("first_touch_at")
        if first_at is None or occurred_at < first_at:
            record.set_many(
                {"first_touch_at": occurred_at, "first_touch_campaign_id": values["campaign_id"], "first_touch_channel": values["channel"]}
            )
            fields.update(_FIRST_TOUCH_FIELDS)
        latest_at = record.get("latest_touch_at")
        if latest_at is None or occurred_at >= latest_at:
            record.set_many(
                {"latest_touch_at": occurred_at, "latest_touch_campaign_id": values["campaign_id"], "latest_touch_channel": values["channel"]}
            )
            fields.update(_LATEST_TOUCH_FIELDS)

    ids = rows_insert(model=Contact, columns=_CONTACT_COLUMNS, rows=[r.row() for r in new_records], returning_ids=True)
    for record, pk in zip(new_records, ids, strict=True):
        record.pk = pk
    _save_changed_contacts(records, changed, moment)
    rows_insert(
        model=StageChange,
        columns=_STAGE_COLUMNS,
        rows=[
            (o._record.pk, *(o._stage_values[name] for name in _STAGE_COLUMNS[1:]))
            for o in stage_moves
        ],
    )
    touchpoint_ids = rows_insert(
        model=Touchpoint,
        columns=_TOUCHPOINT_COLUMNS,
        rows=[_touchpoint_row(o) for o in touchpoints],
        returning_ids=True,
    )
    for outcome, pk in zip(touchpoints, touchpoint_ids, strict=True):
        outcome._touchpoint_id = pk
    _add_interests(live, actor_id=actor_id, moment=moment)
    # New contacts are indexed from the values just written (under the keys the matcher made of
    # them when those are the same values); only known ones are read back.
    new_people: dict[int, Person] = {}
    new_keys: dict[int, list[str]] = {}
    for record in new_records:
        person, person_keys = record.person()
        if person_keys is None:
            new_people[record.pk] = person
        else:
            new_keys[record.pk] = person_keys
    capture_followup(
        # A known contact's match keys change only with the fields they are made of: one that
        # only gained a touchpoint (every row of a file imported again) keeps its keys.
        contact_ids={
            record.pk
            for key, record in records.items()
            if isinstance(record, _NewContact) or not changed[key].isdisjoint(_KEYED_FIELDS)
        },
        people=new_people,
        keys=new_keys,
        created=[record.pk for record in new_records],
        review=[(records[key].pk, contact_id, probability, levels) for key, contact_id, probability, levels in review],
    )
    _rescore(live)
    return outcomes


def _rescore(live: list[CaptureOutcome]) -> None:
    """Score the batch's contacts set-wise; the outcomes then carry their new score and stage."""
    records = {outcome._record.pk: outcome._record for outcome in live if outcome._record is not None}
    if not records:
        return
    summary = scores_rescore(contact_ids=list(records))
    for contact_id, (score, grade) in summary.results.items():
        records[contact_id].set("score", score)
        records[contact_id].set("grade", grade)
    for contact_id in summary.moved_to_mql:
        if contact_id in records:
            records[contact_id].set("lifecycle_stage", Stage.MQL)


def _touchpoint_row(outcome: CaptureOutcome) -> tuple:
    return _touchpoint_row_values({**_TOUCHPOINT_DEFAULTS, **outcome._touchpoint_values, "contact_id": outcome._record.pk})


def _forward_move(record, to_stage: str, *, actor_id, source: str, at) -> dict | None:
    from_stage = record.get("lifecycle_stage")
    if not to_stage or to_stage == from_stage or not is_forward(from_stage, to_stage):
        return None
    try:
        check_move(from_stage, to_stage, "")
    except MoveRefused:
        return None
    record.set("lifecycle_stage", to_stage)
    record.set("stage_changed_at", at)
    return {
        "from_stage": from_stage,
        "to_stage": to_stage,
        "changed_by_id": actor_id,
        "changed_at": at,
        "reason": f"advanced by {source}",
        "source": source,
    }


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


class _AccountRow:
    """An account as this step reads and fills it (a model instance per row costs more than the lookup)."""

    __slots__ = ("pk", "name", "domain", *_ACCOUNT_FILLABLE)

    def __init__(self, pk: int | None, name: str, domain: str, industry, employee_count, annual_revenue, country):
        # In the order of _ACCOUNT_FILLABLE (checked below), spelled out: one per account read.
        self.pk, self.name, self.domain = pk, name, domain
        self.industry, self.employee_count, self.annual_revenue, self.country = industry, employee_count, annual_revenue, country


assert _ACCOUNT_FILLABLE == ("industry", "employee_count", "annual_revenue", "country")


def _resolve_accounts(
    live: list[CaptureOutcome], existing: dict[str, Contact], keys: dict[int, str], moment
) -> dict[int, _AccountRow]:
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
    # Only what this step reads or fills, as plain rows.
    read = ("id", "name", "domain", *_ACCOUNT_FILLABLE)
    by_domain = {row[2]: _AccountRow(*row) for row in accounts_by_domain(domains=domains, columns=read)}
    by_name: dict[str, _AccountRow] = {}
    for name_lower, *row in accounts_by_lower_name(names=names, columns=read):
        if name_lower not in by_name:
            by_name[name_lower] = _AccountRow(*row)

    created: list[_AccountRow] = []
    touched: dict[int, set[str]] = {}
    resolved: dict[int, _AccountRow] = {}
    for outcome in wanting:
        lead = outcome.lead
        if lead.company_domain:
            account = by_domain.get(lead.company_domain)
        else:
            account = by_name.get(lead.company_name.lower())
        if account is None:
            name = lead.company_name or lead.company_domain
            company = lead.company
            account = _AccountRow(None, name, lead.company_domain, *(company.get(f, _ACCOUNT_DEFAULTS[f]) for f in _ACCOUNT_FILLABLE))
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
    new_values = {**_ACCOUNT_DEFAULTS, "created_at": moment, "updated_at": moment}
    ids = rows_insert(
        model=Account,
        columns=_ACCOUNT_COLUMNS,
        rows=[
            tuple(getattr(account, name) if name in _AccountRow.__slots__ else new_values[name] for name in _ACCOUNT_COLUMNS)
            for account in created
        ],
        returning_ids=True,
    )
    for account, pk in zip(created, ids, strict=True):
        account.pk = pk
    if touched:
        # One prepared UPDATE per set of filled fields (see _save_changed_contacts).
        accounts = {a.pk: a for a in [*by_domain.values(), *by_name.values()] if a.pk in touched}
        groups: dict[tuple[str, ...], list[tuple]] = {}
        for pk, filled in touched.items():
            names = (*sorted(filled), "updated_at")
            account = accounts[pk]
            groups.setdefault(names, []).append((*(getattr(account, n) for n in names[:-1]), moment, pk))
        for names, rows in groups.items():
            rows_update(model=Account, columns=names, rows=rows)
    return resolved


def _build_touchpoints(live: list[CaptureOutcome], campaigns: dict[int, Campaign], *, actor_id, actor_team, moment) -> list[CaptureOutcome]:
    """The touchpoint values of each lead that records one; returns those leads' outcomes."""
    seen = touchpoint_keys_recorded(keys={o.lead.dedupe_key for o in live if o.lead.dedupe_key})
    default_team = actor_team or Team.MARKETING
    recording = []
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
        outcome._touchpoint_values = {
            "campaign_id": campaign.pk if campaign else None,
            "kind": lead.kind,
            "channel": channel,
            "team": lead.team or default_team,
            "actor_id": actor_id,
            "occurred_at": lead.occurred_at or moment,
            "url": lead.url,
            "utm_source": lead.utm_source,
            "utm_medium": lead.utm_medium,
            "utm_campaign": lead.utm_campaign,
            "subject": lead.subject,
            "body": lead.note,
            "metadata": {},
            "dedupe_key": lead.dedupe_key,
            "created_at": moment,
        }
        recording.append(outcome)
    return recording


def _save_changed_contacts(records: dict[str, _NewContact | _KnownContact], changed: dict[str, set[str]], moment) -> None:
    """Write the changed fields of known contacts: one prepared UPDATE per set of changed
    fields, run over every contact with that set (a re-imported file changes the same
    fields on most rows, so there are few sets)."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for key, record in records.items():
        fields = changed.get(key)
        if isinstance(record, _KnownContact) and fields:
            contact = record.contact
            contact.updated_at = moment
            names = (*sorted(fields), "updated_at")
            groups.setdefault(names, []).append((*(getattr(contact, name) for name in names), contact.pk))
    for names, rows in groups.items():
        rows_update(model=Contact, columns=names, rows=rows)


def _add_interests(live: list[CaptureOutcome], *, actor_id, moment) -> None:
    rows = {
        (outcome._record.pk, tag): ContactInterest(contact_id=outcome._record.pk, name=tag, added_by_id=actor_id, added_at=moment)
        for outcome in live
        for tag in outcome.lead.interests
    }
    if rows:
        ContactInterest.objects.bulk_create(rows.values(), ignore_conflicts=True)
