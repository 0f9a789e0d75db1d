"""Normalization shared by every way data enters: capture, import, API, matching."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import phonenumbers

_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

FREE_MAIL_DOMAINS = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("free_mail_domains.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


class InvalidValue(ValueError):
    """A value that cannot be normalized; the message says why, in words for a person."""


def normalize_email(raw: str | None) -> str:
    """Lower-case and trim; '' for nothing; InvalidValue for something that is not an address."""
    value = (raw or "").strip().lower()
    if not value:
        return ""
    if value.startswith("mailto:"):
        value = value[7:]
    if len(value) > 254:
        raise InvalidValue("is longer than 254 characters")
    if not _EMAIL.match(value):
        raise InvalidValue(f"'{raw.strip()[:80]}' is not a valid email address")
    return value


def email_domain(email: str) -> str:
    return email.rpartition("@")[2] if email else ""


def company_domain_from_email(email: str) -> str:
    """The company's domain, unless the address is at a free mailbox provider."""
    domain = email_domain(email)
    return "" if not domain or domain in FREE_MAIL_DOMAINS else domain


def normalize_domain(raw: str | None) -> str:
    """'https://www.Acme.com/about' → 'acme.com'."""
    value = (raw or "").strip().lower()
    if not value:
        return ""
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0].split("?")[0].split(":")[0]
    if value.startswith("www."):
        value = value[4:]
    if not _DOMAIN.match(value):
        raise InvalidValue(f"'{raw.strip()[:80]}' is not a valid domain")
    return value


def normalize_phone(raw: str | None, default_region: str) -> str:
    """To E.164; numbers without a country code are read as ``default_region`` numbers."""
    value = (raw or "").strip()
    if not value:
        return ""
    return _normalize_phone_cached(value, default_region)


@lru_cache(maxsize=65536)
def _normalize_phone_cached(value: str, default_region: str) -> str:
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"'{value[:40]}' is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidValue(f"'{value[:40]}' is not a possible phone number")
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.match(formatted):
        raise InvalidValue(f"'{value[:40]}' is not a possible phone number")
    return formatted


def clean_text(raw: object, *, max_length: int) -> str:
    """Trim and collapse internal whitespace; InvalidValue when too long."""
    if raw is None:
        return ""
    value = " ".join(str(raw).split())
    if len(value) > max_length:
        raise InvalidValue(f"is longer than {max_length} characters")
    return value
