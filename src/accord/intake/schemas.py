"""POST /api/capture: one lead in, the contact it became out.

The schema checks types and lists the fields a lead may carry; the pipeline's own reader
(``accord.intake.leads.lead_from_mapping``) then normalizes and checks each value, the same
for the API, the web form and CSV import.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from accord.core.schemas import InSchema
from accord.crm.schemas import ContactOut


class CaptureIn(InSchema):
    email: str = Field(..., description="normalized (trimmed, lower-cased); the key that finds an existing contact")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = Field(None, description="stored as E.164; without a country code, the default region's")
    job_title: str | None = None
    seniority: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    state: str | None = None
    country: str | None = Field(None, description="two-letter ISO code")
    birth_date: date | None = None
    external_id: str | None = None
    lifecycle_stage: str | None = Field(None, description="moves the contact forward only, never back")
    interests: list[str] | str | None = None
    company: str | None = Field(None, description="company name; the account is found by domain, else by name")
    company_domain: str | None = Field(None, description="defaults to the email's domain unless it is free mail")
    industry: str | None = None
    employee_count: int | None = None
    annual_revenue: Decimal | None = None
    kind: str | None = Field(None, description="touchpoint kind; form_submission by default")
    occurred_at: datetime | None = None
    campaign_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    landing_url: str | None = Field(None, description="its utm_* parameters resolve the campaign")
    channel: str | None = None
    team: str | None = None
    subject: str | None = None
    note: str | None = None


class CaptureOut(Schema):
    contact: ContactOut
    created: bool
    changed_fields: list[str]
    touchpoint_id: int | None
