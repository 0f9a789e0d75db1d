"""What the API accepts and returns for campaigns and touchpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import field_validator, model_validator

from accord.campaigns.models import Campaign, CampaignStatus, Channel, Touchpoint, TouchpointKind
from accord.core.models import Team
from accord.core.schemas import InSchema, NamedRef, UserRef, text

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class CampaignIn(InSchema):
    name: text(Campaign, "name", min_length=1)
    channel: Channel = Channel.OTHER
    status: CampaignStatus = CampaignStatus.PLANNED
    utm_source: text(Campaign, "utm_source") = ""
    utm_medium: text(Campaign, "utm_medium") = ""
    utm_campaign: text(Campaign, "utm_campaign") = ""
    start_date: date | None = None
    end_date: date | None = None
    budget: Money | None = None
    actual_cost: Money | None = None
    currency: text(Campaign, "currency") = "USD"
    goal: text(Campaign, "goal") = ""
    owner_id: int | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if len(value) != 3 or not value.isascii() or not value.isalpha():
            raise ValueError("must be a three-letter ISO currency code such as USD or EUR")
        return value


class CampaignPatch(CampaignIn):
    name: text(Campaign, "name", min_length=1) = None


class CampaignOut(Schema):
    id: int
    name: str
    channel: str
    status: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    start_date: date | None
    end_date: date | None
    budget: Decimal | None
    actual_cost: Decimal | None
    currency: str
    goal: str
    owner: UserRef | None
    created_at: datetime
    updated_at: datetime


class TouchpointIn(InSchema):
    contact_id: int
    kind: TouchpointKind
    campaign_id: int | None = None
    channel: Channel | None = None
    team: Team | None = Field(None, description="defaults to the team of the user recording it")
    occurred_at: datetime | None = Field(None, description="ISO 8601; defaults to now; without a zone, UTC")
    url: text(Touchpoint, "url") = ""
    utm_source: text(Touchpoint, "utm_source") = ""
    utm_medium: text(Touchpoint, "utm_medium") = ""
    utm_campaign: text(Touchpoint, "utm_campaign") = ""
    subject: text(Touchpoint, "subject") = ""
    body: Annotated[str, Field(max_length=10_000)] = ""
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if value.year < 1970 or value.year > 2200:
            raise ValueError("must be between 1970 and 2200")
        return value

    @model_validator(mode="after")
    def _small_metadata(self):
        if len(str(self.metadata)) > 10_000:
            raise ValueError("metadata is larger than 10,000 characters")
        return self


class TouchpointOut(Schema):
    id: int
    contact_id: int
    campaign: NamedRef | None
    kind: str
    channel: str
    team: str
    actor: UserRef | None
    occurred_at: datetime
    url: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    subject: str
    body: str
    metadata: dict[str, Any]
    created_at: datetime
