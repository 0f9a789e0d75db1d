"""CSV export of a contact list, streamed in chunks with a fixed number of queries per chunk.

The header names are ones the importer maps back to the same fields, so an exported file can
be edited and imported again.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from accord.crm.models import Contact

EXPORT_COLUMNS = (
    "accord_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "job_title",
    "seniority",
    "company",
    "company_domain",
    "industry",
    "street",
    "city",
    "state",
    "postcode",
    "country",
    "birth_date",
    "lifecycle_stage",
    "score",
    "grade",
    "owner",
    "do_not_contact",
    "interests",
    "external_id",
    "first_touch_channel",
    "first_touch_campaign",
    "first_touch_at",
    "latest_touch_channel",
    "latest_touch_campaign",
    "latest_touch_at",
    "created_at",
)
CHUNK = 2000
_NUMBER = re.compile(r"^[+-]?[\d .()/-]*$")


def _cell(value) -> str:
    """As text, with spreadsheet formulas defused (a cell starting with = or @ would run)."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _NUMBER.match(text)):
        return "'" + text
    return text


def _row(contact: Contact) -> list[str]:
    account = contact.account
    values = {
        "accord_id": contact.pk,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.phone,
        "job_title": contact.job_title,
        "seniority": contact.seniority,
        "company": account.name if account else "",
        "company_domain": account.domain if account else "",
        "industry": account.industry if account else "",
        "street": contact.street,
        "city": contact.city,
        "state": contact.state,
        "postcode": contact.postcode,
        "country": contact.country,
        "birth_date": contact.birth_date,
        "lifecycle_stage": contact.lifecycle_stage,
        "score": contact.score,
        "grade": contact.grade,
        "owner": contact.owner.username if contact.owner else "",
        "do_not_contact": "yes" if contact.do_not_contact else "no",
        "interests": ", ".join(interest.name for interest in contact.interests.all()),
        "external_id": contact.external_id,
        "first_touch_channel": contact.first_touch_channel,
        "first_touch_campaign": contact.first_touch_campaign.name if contact.first_touch_campaign else "",
        "first_touch_at": contact.first_touch_at,
        "latest_touch_channel": contact.latest_touch_channel,
        "latest_touch_campaign": contact.latest_touch_campaign.name if contact.latest_touch_campaign else "",
        "latest_touch_at": contact.latest_touch_at,
        "created_at": contact.created_at,
    }
    return [_cell(values[column]) for column in EXPORT_COLUMNS]


class _Echo:
    def write(self, value: str) -> str:
        return value


def contacts_csv_chunks(contacts: QuerySet[Contact]) -> Iterator[bytes]:
    """UTF-8 CSV (with a BOM, so spreadsheets read accents right), one piece per CHUNK contacts."""
    writer = csv.writer(_Echo())
    rows = (
        contacts.select_related("account", "owner", "first_touch_campaign", "latest_touch_campaign")
        .prefetch_related("interests")
        .iterator(chunk_size=CHUNK)
    )
    yield codecs.BOM_UTF8 + writer.writerow(EXPORT_COLUMNS).encode()
    yield from _chunked((writer.writerow(_row(contact)) for contact in rows), CHUNK)


def _chunked(lines: Iterable[str], size: int) -> Iterator[bytes]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= size:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()
