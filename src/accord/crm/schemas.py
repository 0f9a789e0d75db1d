"""What the API accepts and returns for accounts, contacts and opportunities.

Input schemas check types, lengths and formats and name each bad field; output schemas are
kept apart so a stored value is returned exactly as stored (JSON, never HTML).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.conf import settings
from ninja import Field, Schema
from pydantic import field_validator

from accord.core.normalize import normalize_domain, normalize_email, normalize_phone
from accord.core.schemas import InSchema, NamedRef, UserRef, text
from accord.crm.lifecycle import Stage
from accord.crm.models import Account, Contact, Opportunity, OpportunityStage, Seniority

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def _country(value: str) -> str:
    value = value.upper()
    if value and not _COUNTRY.match(value):
        raise ValueError("must be a two-letter ISO country code such as DE or US")
    return value


# Accounts ---------------------------------------------------------------------------------


class AccountIn(InSchema):
    name: text(Account, "name", min_length=1)
    domain: text(Account, "domain") = ""
    industry: text(Account, "industry") = ""
    employee_count: int | None = Field(None, ge=0, le=10_000_000)
    annual_revenue: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None
    country: text(Account, "country") = ""
    website: text(Account, "website") = ""
    owner_id: int | None = None

    _country = field_validator("country")(_country)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return normalize_domain(value)


class AccountPatch(AccountIn):
    name: text(Account, "name", min_length=1) = None


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    employee_count: int | None
    annual_revenue: Decimal | None
    country: str
    website: str
    owner: UserRef | None
    created_at: datetime
    updated_at: datetime


# Contacts ---------------------------------------------------------------------------------


class ContactIn(InSchema):
    """A contact's fields. On create, absent fields are empty; on update, absent fields stay."""

    email: text(Contact, "email") = ""
    first_name: text(Contact, "first_name") = ""
    last_name: text(Contact, "last_name") = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    job_title: text(Contact, "job_title") = ""
    seniority: Seniority = Seniority.UNKNOWN
    account_id: int | None = None
    owner_id: int | None = None
    street: text(Contact, "street") = ""
    city: text(Contact, "city") = ""
    postcode: text(Contact, "postcode") = ""
    state: text(Contact, "state") = ""
    country: text(Contact, "country") = ""
    birth_date: date | None = None
    external_id: text(Contact, "external_id") = ""
    do_not_contact: bool = False
    interests: list[Annotated[str, Field(max_length=60)]] | None = Field(None, max_length=100)

    _country = field_validator("country")(_country)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_phone(value, settings.ACCORD_DEFAULT_PHONE_REGION)

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= date.today():
            raise ValueError("must be between 1900-01-01 and today")
        return value


class ContactCreateIn(ContactIn):
    lifecycle_stage: Stage = Stage.LEAD


class StageMoveIn(InSchema):
    lifecycle_stage: Stage
    reason: Annotated[str, Field(max_length=2000)] = ""


class ContactOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    full_name: str
    phone: str
    job_title: str
    seniority: str
    lifecycle_stage: str
    stage_changed_at: datetime | None
    account: NamedRef | None
    owner: UserRef | None
    street: str
    city: str
    postcode: str
    state: str
    country: str
    birth_date: date | None
    external_id: str
    score: int
    grade: str
    do_not_contact: bool
    interests: list[str]
    first_touch_campaign_id: int | None
    first_touch_channel: str
    first_touch_at: datetime | None
    latest_touch_campaign_id: int | None
    latest_touch_channel: str
    latest_touch_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_interests(contact: Contact) -> list[str]:
        return [interest.name for interest in contact.interests.all()]


class StageChangeOut(Schema):
    id: int
    from_stage: str
    to_stage: str
    changed_by: UserRef | None
    changed_at: datetime
    reason: str
    source: str


class StageMoveOut(Schema):
    contact: ContactOut
    stage_change: StageChangeOut


# Opportunities ----------------------------------------------------------------------------


class OpportunityIn(InSchema):
    name: text(Opportunity, "name", min_length=1)
    account_id: int | None = None
    primary_contact_id: int | None = None
    owner_id: int | None = None
    amount: Money = Decimal("0")
    currency: text(Opportunity, "currency") = "USD"
    stage: OpportunityStage = OpportunityStage.PROSPECTING
    close_date: date | None = None
    lost_reason: text(Opportunity, "lost_reason") = ""

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if not _CURRENCY.match(value):
            raise ValueError("must be a three-letter ISO currency code such as USD or EUR")
        return value

    @field_validator("close_date")
    @classmethod
    def _close_date(cls, value: date | None) -> date | None:
        if value is not None and not date(1970, 1, 1) <= value <= date(2200, 12, 31):
            raise ValueError("must be between 1970-01-01 and 2200-12-31")
        return value


class OpportunityPatch(OpportunityIn):
    name: text(Opportunity, "name", min_length=1) = None


class OpportunityOut(Schema):
    id: int
    name: str
    account: NamedRef | None
    primary_contact_id: int | None
    owner: UserRef | None
    amount: Decimal
    currency: str
    stage: str
    close_date: date | None
    closed_at: datetime | None
    lost_reason: str
    created_at: datetime
    updated_at: datetime

