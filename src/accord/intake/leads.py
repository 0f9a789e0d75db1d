"""A lead as it arrives from anywhere, checked field by field before the pipeline runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import phonenumbers

from accord.campaigns.models import Channel, TouchpointKind
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.core.normalize import (
    InvalidValue,
    clean_text,
    company_domain_from_email,
    normalize_domain,
    normalize_email,
    normalize_phone,
)
from accord.crm.lifecycle import Stage
from accord.crm.models import Seniority
from accord.crm.services import parse_date, parse_money

_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Choice values as sets, built once: ``TextChoices.values`` builds a new list on every call.
_SENIORITIES = frozenset(Seniority.values)
_STAGES = frozenset(Stage.values)
_KINDS = frozenset(TouchpointKind.values)
_CHANNELS = frozenset(Channel.values)
_TEAMS = frozenset(Team.values)
_STRUCTURED = (dict, list, tuple, set)

# Contact fields a lead may carry, with their longest allowed text.
CONTACT_TEXT_FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 200,
    "street": 200,
    "city": 100,
    "postcode": 20,
    "state": 100,
    "external_id": 100,
}
ACCEPTED_FIELDS = frozenset(
    {
        "email",
        "phone",
        "seniority",
        "country",
        "birth_date",
        "lifecycle_stage",
        "interests",
        "company",
        "company_domain",
        "industry",
        "employee_count",
        "annual_revenue",
        "kind",
        "occurred_at",
        "campaign_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "landing_url",
        "channel",
        "team",
        "subject",
        "note",
        *CONTACT_TEXT_FIELDS,
    }
)


@dataclass
class LeadInput:
    email: str
    contact: dict[str, Any]  # non-empty contact field values only
    company_name: str = ""
    company_domain: str = ""
    company: dict[str, Any] = field(default_factory=dict)  # industry, employee_count, annual_revenue, country
    lifecycle_stage: str = ""
    interests: tuple[str, ...] = ()
    kind: str = TouchpointKind.FORM_SUBMISSION
    occurred_at: datetime | None = None
    campaign_id: int | None = None
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    url: str = ""
    channel: str = ""
    team: str = ""
    subject: str = ""
    note: str = ""
    # Set by imports so that running the same file twice records each row's touchpoint once.
    dedupe_key: str = ""


_E164_INPUT = re.compile(r"\+[1-9]\d{6,14}")


def phone_e164(raw: str, default_region: str) -> str:
    """``normalize_phone``, with a shortcut for a number already written in E.164.

    Exports mostly hold numbers as ``+14155552671``; parsing each with ``phonenumbers.parse``
    costs more than storing the row. The shortcut answers only when parse could not read the
    number differently (no national prefix to strip, no leading zero) and phonenumbers itself
    finds it possible; every other value, valid or not, goes through the full parse.
    """
    value = raw.strip()
    if _E164_INPUT.fullmatch(value):
        quick = _e164_checked(value)
        if quick is not None:
            return quick
    return normalize_phone(value, default_region)


def _e164_checked(value: str) -> str | None:
    digits = value[1:]
    # As parse finds the country calling code: the shortest known prefix of one to three digits.
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if national[0] == "0":
        return None  # leading zeros are kept apart by parse (Italy); leave them to it
    prefix = _national_prefix(code)
    if prefix is None or (prefix and prefix.match(national)):
        return None  # no metadata, or parse might strip a national prefix or carrier code
    if not _possible_length(code, len(national)):
        return None
    # E.164 is "+", the calling code and the national significant number, which here (no
    # leading zero, nothing stripped) is ``national`` itself: the value as given.
    return value


@lru_cache(maxsize=4096)
def _possible_length(code: int, length: int) -> bool:
    """phonenumbers' own is_possible_number, which looks only at the number's length (its
    documented contract), so one answer serves every number of that length under that code."""
    return phonenumbers.is_possible_number(phonenumbers.PhoneNumber(country_code=code, national_number=int("9" * length)))


@lru_cache(maxsize=512)
def _national_prefix(code: int):
    """The national prefix pattern parse strips for this calling code; "" when there is none,
    None when phonenumbers has no metadata for it."""
    region = phonenumbers.region_code_for_country_code(code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    pattern = metadata.national_prefix_for_parsing
    return re.compile(pattern) if pattern else ""


def parse_datetime_value(raw: Any, *, field_name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time.min)
    else:
        text = str(raw).strip().replace(" ", "T", 1) if "T" not in str(raw) else str(raw).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationFailed.single(field_name, f"'{raw}' is not a date and time (use ISO 8601)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def lead_from_mapping(data: Mapping[str, Any], *, default_region: str, require_email: bool = True) -> LeadInput:
    """Validate and normalize one lead; ValidationFailed names every bad field at once.

    A field the lead does not carry is not looked at (an import runs this for every row, and
    most rows carry a few of the many fields)."""
    errors: dict[str, str] = {}

    def text(name: str, max_length: int) -> str:
        raw = data.get(name)
        if raw is None or raw == "":
            return ""
        if type(raw) is str:  # clean_text's own steps, without the call (seven per CSV row)
            value = " ".join(raw.split())
            if len(value) <= max_length:
                return value
        try:
            return clean_text(raw, max_length=max_length)
        except InvalidValue as problem:
            errors[name] = str(problem)
            return ""

    # Both checks on the whole lead first (the fields as a set, the few distinct types of the
    # values): a lead of known fields and plain values, every CSV row, needs no look at each.
    unknown = [] if ACCEPTED_FIELDS.issuperset(data) else sorted(set(data) - ACCEPTED_FIELDS)
    for name in unknown:
        errors[name] = "is not a field a lead can carry"
    structured = []
    if any(issubclass(kind, _STRUCTURED) for kind in set(map(type, data.values()))):
        structured = [name for name, value in data.items() if name != "interests" and isinstance(value, _STRUCTURED)]
    if structured or unknown:
        for name in structured:
            errors[name] = "must be a single value, not a list or object"
        raise ValidationFailed(errors)

    email = ""
    try:
        email = normalize_email(_as_text(data.get("email")))
    except InvalidValue as problem:
        errors["email"] = str(problem)
    else:
        if not email and require_email:
            errors["email"] = "is required"

    contact: dict[str, Any] = {}
    if email:
        contact["email"] = email
    for name, max_length in CONTACT_TEXT_FIELDS.items():
        if name in data:  # most leads carry few of them: the absent ones cost nothing
            value = text(name, max_length)
            if value:
                contact[name] = value
    try:
        phone = phone_e164(_as_text(data.get("phone")), default_region)
        if phone:
            contact["phone"] = phone
    except InvalidValue as problem:
        errors["phone"] = str(problem)

    # Absent fields skip the string methods too (the same "" either way).
    seniority = text("seniority", 16).lower().replace("-", "_").replace(" ", "_") if "seniority" in data else ""
    if seniority:
        if seniority not in _SENIORITIES:
            errors["seniority"] = f"must be one of {', '.join(v for v in Seniority.values if v)}"
        else:
            contact["seniority"] = seniority
    country = text("country", 2).upper() if "country" in data else ""
    if country:
        if not _COUNTRY.match(country):
            errors["country"] = "must be a two-letter ISO country code such as DE or US"
        else:
            contact["country"] = country
    try:
        birth_date = parse_date(data.get("birth_date"), field="birth_date") if "birth_date" in data else None
        if birth_date is not None:
            if not date(1900, 1, 1) <= birth_date <= date.today():
                errors["birth_date"] = "must be between 1900-01-01 and today"
            else:
                contact["birth_date"] = birth_date
    except ValidationFailed as problem:
        errors.update(problem.errors)

    stage = text("lifecycle_stage", 16).lower() if "lifecycle_stage" in data else ""
    if stage and stage not in _STAGES:
        errors["lifecycle_stage"] = f"'{stage}' is not a lifecycle stage; use one of {', '.join(Stage.values)}"

    interests = _parse_interests(data.get("interests"), errors) if "interests" in data else ()

    company_name = text("company", 200) if "company" in data else ""
    company_domain = ""
    try:
        company_domain = normalize_domain(_as_text(data.get("company_domain"))) if "company_domain" in data else ""
    except InvalidValue as problem:
        errors["company_domain"] = str(problem)
    if not company_domain and email:
        company_domain = company_domain_from_email(email)
    company: dict[str, Any] = {}
    industry = text("industry", 100) if "industry" in data else ""
    if industry:
        company["industry"] = industry
    employees = data.get("employee_count")
    if employees not in (None, ""):
        try:
            count = int(str(employees).replace(",", "").strip())
            if not 0 <= count <= 10_000_000:
                raise ValueError
            company["employee_count"] = count
        except ValueError:
            errors["employee_count"] = f"'{employees}' is not a whole number between 0 and 10,000,000"
    try:
        revenue = parse_money(data.get("annual_revenue"), field="annual_revenue") if "annual_revenue" in data else None
        if revenue is not None:
            company["annual_revenue"] = revenue
    except ValidationFailed as problem:
        errors.update(problem.errors)
    if country and "country" not in errors:
        company["country"] = country

    kind = (text("kind", 24).lower() if "kind" in data else "") or TouchpointKind.FORM_SUBMISSION
    if kind not in _KINDS:
        errors["kind"] = f"'{kind}' is not a touchpoint kind; use one of {', '.join(TouchpointKind.values)}"
    try:
        occurred_at = parse_datetime_value(data.get("occurred_at"), field_name="occurred_at") if "occurred_at" in data else None
    except ValidationFailed as problem:
        errors.update(problem.errors)
        occurred_at = None
    campaign_id = data.get("campaign_id")
    if campaign_id in (None, ""):
        campaign_id = None
    else:
        try:
            campaign_id = int(campaign_id)
            if campaign_id <= 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["campaign_id"] = f"'{campaign_id}' is not a campaign id"
            campaign_id = None

    url = text("landing_url", 2000) if "landing_url" in data else ""
    url_utm: dict[str, str] = {}
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors["landing_url"] = "must be an http or https address"
        else:
            query = parse_qs(parts.query)
            url_utm = {key: values[-1].strip().lower() for key, values in query.items() if key.startswith("utm_")}
    utm = {}
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        utm[name] = ((text(name, 100).lower() if name in data else "") or url_utm.get(name, ""))[:100]

    channel = text("channel", 32).lower() if "channel" in data else ""
    if channel and channel not in _CHANNELS:
        errors["channel"] = f"'{channel}' is not a channel; use one of {', '.join(Channel.values)}"
    team = text("team", 16).lower() if "team" in data else ""
    if team and team not in _TEAMS:
        errors["team"] = "must be marketing or sales"

    subject = text("subject", 300) if "subject" in data else ""
    note = _as_text(data.get("note")).strip() if "note" in data else ""
    if len(note) > 10_000:
        errors["note"] = "is longer than 10,000 characters"

    if errors:
        raise ValidationFailed(errors)
    return LeadInput(
        email=email,
        contact=contact,
        company_name=company_name,
        company_domain=company_domain,
        company=company,
        lifecycle_stage=stage,
        interests=interests,
        kind=kind,
        occurred_at=occurred_at,
        campaign_id=campaign_id,
        url=url,
        channel=channel,
        team=team,
        subject=subject,
        note=note,
        **utm,
    )


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _parse_interests(raw: Any, errors: dict[str, str]) -> tuple[str, ...]:
    if raw in (None, ""):
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        errors["interests"] = "must be a list of tags or a comma-separated text"
        return ()
    tags = []
    for item in items:
        tag = " ".join(str(item).split()).lower()
        if not tag:
            continue
        if len(tag) > 60:
            errors["interests"] = "each tag must be at most 60 characters"
            return ()
        tags.append(tag)
    return tuple(dict.fromkeys(tags))


