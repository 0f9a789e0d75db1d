"""Reading a contact CSV: its encoding, its delimiter, which column holds which field, and one
row turned into a lead for the capture pipeline.

Headers are matched after lower-casing and dropping everything but letters and digits, so
"First Name", "first_name" and "FirstName" are one header. The aliases cover the column
names of HubSpot and Salesforce contact exports.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from accord.campaigns.models import TouchpointKind
from accord.core.errors import ValidationFailed
from accord.intake.leads import LeadInput, lead_from_mapping

# Field → label, in the order the mapping form lists them.
IMPORT_FIELDS: dict[str, str] = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "mobile_phone": "Mobile phone (used when there is no phone)",
    "job_title": "Job title",
    "seniority": "Seniority",
    "company": "Company name",
    "company_domain": "Company domain or website",
    "industry": "Industry",
    "employee_count": "Number of employees",
    "annual_revenue": "Annual revenue",
    "street": "Street",
    "city": "City",
    "state": "State or region",
    "postcode": "Postal code",
    "country": "Country",
    "birth_date": "Birth date",
    "lifecycle_stage": "Lifecycle stage",
    "interests": "Interests (comma-separated)",
    "external_id": "External id",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "landing_url": "Landing page URL",
    "campaign_id": "Campaign id",
    "occurred_at": "Date of the interaction (ISO 8601)",
    "note": "Note",
}

# Field → header keys that mean it, best first. A later alias only maps when no better one is present.
_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "email1", "workemail", "businessemail", "mail"),
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "phone": ("phone", "phonenumber", "businessphone", "workphone", "telephone", "tel"),
    "mobile_phone": ("mobilephonenumber", "mobilephone", "mobile", "cellphone", "cell"),
    "job_title": ("jobtitle", "title", "position", "role"),
    "seniority": ("seniority", "senioritylevel"),
    "company": ("company", "companyname", "accountname", "account", "organization", "organisation",
                "organizationname", "employer"),
    "company_domain": ("companydomainname", "companydomain", "domain", "website", "websiteurl", "companywebsite"),
    "industry": ("industry",),
    "employee_count": ("numberofemployees", "employees", "employeecount", "noofemployees"),
    "annual_revenue": ("annualrevenue", "revenue"),
    "street": ("street", "streetaddress", "address", "address1", "mailingstreet"),
    "city": ("city", "mailingcity", "town"),
    "state": ("state", "stateregion", "region", "province", "stateprovince", "mailingstate", "mailingstateprovince"),
    "postcode": ("postalcode", "postcode", "zip", "zipcode", "zippostalcode", "mailingzippostalcode",
                 "mailingpostalcode"),
    "country": ("country", "countryregion", "countrycode", "mailingcountry", "mailingcountrycode"),
    "birth_date": ("birthdate", "dateofbirth", "birthday", "dob"),
    "lifecycle_stage": ("lifecyclestage", "stage"),
    "interests": ("interests", "tags"),
    "external_id": ("externalid", "recordid", "contactid", "id", "hubspotid", "salesforceid"),
    "utm_source": ("utmsource",),
    "utm_medium": ("utmmedium",),
    "utm_campaign": ("utmcampaign", "campaign"),
    "landing_url": ("landingurl", "landingpage", "landingpageurl"),
    "campaign_id": ("campaignid",),
    "occurred_at": ("occurredat",),
    "note": ("note", "notes", "description", "comment", "comments"),
}
_HEADER_FIELD: dict[str, tuple[str, int]] = {
    alias: (field, rank) for field, aliases in _ALIASES.items() for rank, alias in enumerate(aliases)
}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Values exports spell their own way, translated before validation.
_STAGE_NAMES = {
    "subscriber": "subscriber",
    "lead": "lead",
    "mql": "mql",
    "marketingqualifiedlead": "mql",
    "sal": "sal",
    "salesacceptedlead": "sal",
    "sql": "sql",
    "salesqualifiedlead": "sql",
    "opportunity": "opportunity",
    "customer": "customer",
    "evangelist": "customer",
    "recycled": "recycled",
    "disqualified": "disqualified",
    "other": "",
}
_SENIORITY_NAMES = {
    "executive": "c_level",
    "clevel": "c_level",
    "cxo": "c_level",
    "csuite": "c_level",
    "vicepresident": "vp",
    "head": "director",
    "partner": "owner",
    "founder": "owner",
    "entrylevel": "entry",
    "junior": "entry",
}


def header_key(header: str) -> str:
    return _NON_ALNUM.sub("", header.strip().lower())


@cache
def _country_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for line in Path(__file__).with_name("country_names.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, *names = line.split("|")
        for name in names:
            codes[name.strip().lower()] = code
    return codes


def country_code(value: str) -> str:
    """'Germany' → 'DE'; a two-letter code or an unknown name is returned as given (and validated later)."""
    text = value.strip()
    if len(text) == 2:
        return text.upper()
    return _country_codes().get(text.lower(), text)


@dataclass
class CsvFile:
    header: list[str]
    text: str
    encoding: str
    delimiter: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number in the file, values) for each data row; blank lines are skipped."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        next(reader, None)
        last_line = reader.line_num
        for values in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not "".join(values).strip():  # blank: no value has anything but spaces
                continue
            yield line, values

    def count_rows(self) -> int:
        return sum(1 for _ in self.rows())


def decode_bytes(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 with or without BOM, UTF-16 with BOM, else Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Excel on Windows writes Windows-1252, which is Latin-1 plus printable characters in 0x80–0x9F.
    if re.search(rb"[\x80-\x9f]", data):
        try:
            return data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def csv_read(data: bytes) -> CsvFile:
    """Decode and find the header; ValidationFailed on the "file" field when there is none."""
    text, encoding = decode_bytes(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ValidationFailed.single("file", "is empty or its first line (the header) is blank")
    # Exports from European spreadsheets use semicolons, some tools tabs.
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [name.strip() for name in header]
    if "\x00" in text[:1000]:
        raise ValidationFailed.single("file", "is not a text CSV file")
    return CsvFile(header=header, text=text, encoding=encoding, delimiter=delimiter)


def mapping_detect(header: list[str]) -> list[str]:
    """The field each column holds ("" for columns not imported), from the header names."""
    best: dict[str, tuple[int, int]] = {}  # field → (rank, column)
    for column, name in enumerate(header):
        found = _HEADER_FIELD.get(header_key(name))
        if found is None:
            continue
        field, rank = found
        if field not in best or rank < best[field][0]:
            best[field] = (rank, column)
    mapping = [""] * len(header)
    for field, (_, column) in best.items():
        mapping[column] = field
    return mapping


def mapping_override(header: list[str], mapping: list[str], overrides: Mapping[str, str]) -> list[str]:
    """Apply explicit column=field choices (field "" or "-" skips the column); names match loosely."""
    errors: dict[str, str] = {}
    result = list(mapping)
    columns = {header_key(name): index for index, name in reversed(list(enumerate(header)))}
    for column_name, field in overrides.items():
        field = (field or "").strip()
        field = "" if field == "-" else field
        index = columns.get(header_key(column_name))
        if index is None:
            errors[column_name] = "is not a column of this file"
            continue
        if field and field not in IMPORT_FIELDS:
            errors[column_name] = f"'{field}' is not a contact field; use one of {', '.join(IMPORT_FIELDS)}"
            continue
        if field:
            # One column per field: an explicit choice takes the field from the detected column.
            result = ["" if (existing == field and position != index) else existing for position, existing in enumerate(result)]
        result[index] = field
    if errors:
        raise ValidationFailed(errors)
    return result


def mapping_check(mapping: list[str]) -> None:
    if "email" not in mapping:
        raise ValidationFailed.single("mapping", "no column holds the email address; map one to email")
    taken = [field for field in mapping if field]
    doubled = sorted({field for field in taken if taken.count(field) > 1})
    if doubled:
        raise ValidationFailed.single("mapping", f"more than one column is mapped to {', '.join(doubled)}")


def row_to_lead(
    values: list[str], mapping: list[str], *, default_region: str, campaign_id: int | None = None
) -> LeadInput:
    """One CSV row as a validated lead; ValidationFailed names every bad field."""
    if len(values) > len(mapping) and any(value.strip() for value in values[len(mapping):]):
        raise ValidationFailed.single("row", f"has {len(values)} values but the header has {len(mapping)} columns")
    data: dict[str, str] = {field: value for field, value in zip(mapping, values) if field and value.strip()}
    mobile = data.pop("mobile_phone", "")
    if mobile and "phone" not in data:
        data["phone"] = mobile
    if "country" in data:
        data["country"] = country_code(data["country"])
    if "lifecycle_stage" in data:
        data["lifecycle_stage"] = _STAGE_NAMES.get(header_key(data["lifecycle_stage"]), data["lifecycle_stage"])
    if "seniority" in data:
        data["seniority"] = _SENIORITY_NAMES.get(header_key(data["seniority"]), data["seniority"])
    if "company_domain" in data and "." not in data["company_domain"]:
        data.pop("company_domain")  # a website column holding "n/a" or a name says nothing about the domain
    if campaign_id is not None and "campaign_id" not in data:
        data["campaign_id"] = str(campaign_id)
    key = hashlib.sha256("\x1f".join([f"{name}={data[name].strip()}" for name in sorted(data)]).encode()).hexdigest()
    data["kind"] = TouchpointKind.IMPORT
    lead = lead_from_mapping(data, default_region=default_region)
    # The same row imported again is recognised by its content, so its touchpoint is not repeated.
    lead.dedupe_key = key
    return lead


def describe_error(error: ValidationFailed) -> str:
    return "; ".join(f"{field}: {message}" for field, message in error.errors.items())
