"""Reads for duplicate detection: contacts as the matcher sees them, the queue, the model."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from functools import partial
from typing import NamedTuple

import numpy as np
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q

from accord.crm.models import Account, Contact
from accord.dedup.engine import Column, MatchParameters, with_derived
from accord.dedup.keys import PERSON_FIELDS, Person, clean_column, cleaned_columns
from accord.dedup.models import Decision, Merge, MatchKey, MatchModel, RecordKind, Scan, Suggestion, SuggestionStatus

CHUNK = 5000  # ids per statement
PERSON_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "external_id",
    "street",
    "city",
    "postcode",
    "state",
    "birth_date",
    "account__name",
    "account__domain",
)


def person_from_row(row: Sequence) -> Person:
    (_, first, last, email, phone, external_id, street, city, postcode, state, birth, company, domain) = row
    return Person.build(
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        external_id=external_id,
        street=street,
        city=city,
        postcode=postcode,
        state=state,
        birth_date=birth,
        company=company or "",
        domain=domain or "",
    )


def person_from_contact(contact: Contact) -> Person:
    account = contact.account if contact.account_id else None
    return Person.build(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        external_id=contact.external_id,
        street=contact.street,
        city=contact.city,
        postcode=contact.postcode,
        state=contact.state,
        birth_date=contact.birth_date,
        company=account.name if account else "",
        domain=account.domain if account else "",
    )


def people_by_id(ids: Iterable[int]) -> dict[int, Person]:
    """The given contacts as people, in one query."""
    ids = list(ids)
    if not ids:
        return {}
    # Plain SQL: capture runs this for every lead, and the ORM's overhead would dominate.
    quote = connection.ops.quote_name
    contact, account = Contact._meta, Account._meta
    columns = ", ".join(f"c.{quote(contact.get_field(name).column)}" for name in PERSON_COLUMNS[:-2])
    def sql_for(count: int) -> str:
        return (
            f"SELECT {columns}, a.{quote('name')}, a.{quote('domain')} FROM {quote(contact.db_table)} c "
            f"LEFT JOIN {quote(account.db_table)} a ON a.{quote('id')} = c.{quote('account_id')} "
            f"WHERE c.{quote('id')} IN ({', '.join(['%s'] * count)})"
        )

    birth = contact.get_field("birth_date")
    rows = []
    with connection.cursor() as cursor:
        # In chunks: SQLite takes a limited number of parameters per statement.
        for offset in range(0, len(ids), CHUNK):
            chunk = ids[offset : offset + CHUNK]
            cursor.execute(sql_for(len(chunk)), chunk)
            rows.extend(cursor.fetchall())
    at = PERSON_COLUMNS.index("birth_date")
    out = {}
    for row in rows:
        row = list(row)
        row[at] = birth.to_python(row[at]) if row[at] else None
        out[row[0]] = person_from_row(row)
    return out


def _contact_select() -> str:
    quote = connection.ops.quote_name
    meta = Contact._meta
    return f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} FROM {quote(meta.db_table)}"


class StoredKeys(NamedTuple):
    """What exact matching reads of a contact: its keys and names, not the whole record."""

    pk: int
    email: str
    phone: str
    external_id: str
    first_name: str
    last_name: str


def contact_keys_by_values(*, emails: Iterable[str], phones: Iterable[str], external_ids: Iterable[str], limit: int) -> list[StoredKeys]:
    """Contacts whose email, phone or external id is one of these, in id order (at most
    ``limit``), as their keys and names only.

    Plain SQL and plain rows: capture asks this for every lead, most leads match nothing, and
    compiling the query through the ORM or building whole contacts cost more than running it.
    The contacts finally chosen are read whole afterwards (``contacts_by_ids``).
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in ("id", *StoredKeys._fields[1:]))
    table = quote(Contact._meta.db_table)
    if connection.vendor == "postgresql":
        # Each value looked up through its column's index (one array parameter per column; OFFSET
        # 0 keeps PostgreSQL from turning the lookups into a scan of the whole table, which it
        # picks while a bulk import has left the table statistics behind).
        lookups, params = [], []
        for column, values in (("email", emails), ("phone", phones), ("external_id", external_ids)):
            values = sorted(set(values))
            if values:
                also = f" AND NOT (s.{quote(column)} = '')" if column == "email" else ""
                lookups.append(
                    f"SELECT f.{quote('id')} FROM unnest(%s::text[]) AS w (v) CROSS JOIN LATERAL "
                    f"(SELECT s.{quote('id')} FROM {table} s WHERE s.{quote(column)} = w.v{also} OFFSET 0) f"
                )
                params.append(values)
        if not lookups:
            return []
        sql = (
            f"SELECT c.* FROM ({' UNION '.join(lookups)}) ids CROSS JOIN LATERAL "
            f"(SELECT {names} FROM {table} s WHERE s.{quote('id')} = ids.{quote('id')} OFFSET 0) c "
            f"ORDER BY c.{quote('id')} LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            return [StoredKeys(*row) for row in cursor.fetchall()]
    conditions, params = [], []
    for column, values in (("email", emails), ("phone", phones), ("external_id", external_ids)):
        values = sorted(set(values))
        if values:
            condition = f"{quote(column)} IN ({', '.join(['%s'] * len(values))})"
            if column == "email":
                # Spelled as the unique index's own condition, so SQLite may use that partial
                # index (it proves the implication only from an identical term); otherwise
                # every capture batch scans the whole contact table.
                condition = f"({condition} AND NOT ({quote(column)} = ''))"
            conditions.append(condition)
            params.extend(values)
    if not conditions:
        return []
    sql = f"SELECT {names} FROM {table} WHERE {' OR '.join(conditions)} ORDER BY {quote('id')} LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [StoredKeys(*row) for row in cursor.fetchall()]


def contacts_by_ids(ids: Iterable[int]) -> dict[int, Contact]:
    """These contacts as model instances, by id (the ones that still exist)."""
    ids = sorted(set(ids))
    out: dict[int, Contact] = {}
    for offset in range(0, len(ids), CHUNK):  # SQLite takes a limited number of parameters
        chunk = ids[offset : offset + CHUNK]
        sql = f"{_contact_select()} WHERE {connection.ops.quote_name('id')} IN ({', '.join(['%s'] * len(chunk))})"
        out.update((contact.pk, contact) for contact in Contact.objects.raw(sql, chunk))
    return out


# Keys per statement when looking candidates up: two placeholders each stay under SQLite's limit.
KEY_CHUNK = 2000


def candidates_by_keys(*, keys: Sequence[str], max_per_key: int) -> tuple[dict[str, list[int]], list[int], dict[str, list[str]]]:
    """Contacts that share any of these blocking keys (one statement on PostgreSQL, one per
    2,000 keys on SQLite, whose parameters are limited): the
    members of each key (in index order), the distinct contact ids, and their cleaned values
    field by field (as ``Person`` fields, in the order of the ids).

    A key shared by more than ``max_per_key`` contacts says nothing (a placeholder, a huge
    company) and is left out without reading its members: its size is counted on the key
    index alone, and counting stops one past the limit, so a key of 50,000 costs no more than
    one of 301. Contacts are read joined on the key table in the same statement, as plain
    rows cleaned column by column: capture runs this for every lead, and building ORM objects
    (or a Person per candidate) would dominate.
    """
    members: dict[str, list[int]] = {}
    rows: dict[int, tuple] = {}
    if keys:
        quote = connection.ops.quote_name
        contact, account = Contact._meta, Account._meta
        key_table, key = quote(MatchKey._meta.db_table), quote("key")
        columns = ", ".join(f"c.{quote(contact.get_field(name).column)}" for name in PERSON_COLUMNS[:-2])
        if connection.vendor == "sqlite":
            # As stored text ('1980-03-04'): the cleaner keeps the digits either way, and the
            # driver's date converter would cost more than the rest of the row.
            birth = f"c.{quote(contact.get_field('birth_date').column)}"
            columns = columns.replace(birth, f"CAST({birth} AS TEXT)")
        wanted = sorted(set(keys))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The keys as one array parameter, and each key's members and contact looked up
                # through the indexes per key (OFFSET 0 keeps PostgreSQL from flattening the
                # lateral subqueries into hash joins over whole tables, which it picks while a
                # bulk import has left the table statistics behind). One look into the key index
                # per key: at most one member past the limit is read, and counted as it is read.
                cursor.execute(
                    f"SELECT m.{key}, {columns}, a.{quote('name')}, a.{quote('domain')} "
                    f"FROM unnest(%s::text[]) AS w (k) "
                    f"CROSS JOIN LATERAL (SELECT capped.*, COUNT(*) OVER () AS n FROM "
                    f"(SELECT s.{key}, s.{quote('id')}, s.contact_id FROM {key_table} s "
                    f"WHERE s.{key} = w.k LIMIT %s) capped) m "
                    f"CROSS JOIN LATERAL (SELECT * FROM {quote(contact.db_table)} s WHERE s.{quote('id')} = m.contact_id OFFSET 0) c "
                    f"LEFT JOIN {quote(account.db_table)} a ON a.{quote('id')} = c.{quote('account_id')} "
                    f"WHERE m.n <= %s ORDER BY m.{key}, m.{quote('id')}",
                    [wanted, max_per_key + 1, max_per_key],
                )
                found = cursor.fetchall()
            else:
                found = []
                for offset in range(0, len(wanted), KEY_CHUNK):
                    chunk = wanted[offset : offset + KEY_CHUNK]
                    cursor.execute(
                        f"WITH wanted (k) AS (VALUES {', '.join(['(%s)'] * len(chunk))}), "
                        f"small (k) AS (SELECT w.k FROM wanted w WHERE (SELECT COUNT(*) FROM "
                        f"(SELECT 1 FROM {key_table} s WHERE s.{key} = w.k LIMIT %s) capped) <= %s) "
                        f"SELECT m.{key}, {columns}, a.{quote('name')}, a.{quote('domain')} "
                        f"FROM {key_table} m JOIN {quote(contact.db_table)} c ON c.{quote('id')} = m.contact_id "
                        f"LEFT JOIN {quote(account.db_table)} a ON a.{quote('id')} = c.{quote('account_id')} "
                        f"WHERE m.{key} IN (SELECT k FROM small) ORDER BY m.{key}, m.{quote('id')}",
                        [*chunk, max_per_key + 1, max_per_key],
                    )
                    found.extend(cursor.fetchall())
        for row in found:
            members.setdefault(row[0], []).append(row[1])
            rows.setdefault(row[1], row)
    ids = list(rows)
    # Transposed: one tuple per column, in PERSON_COLUMNS order after the key.
    stored = list(zip(*rows.values())) if rows else [()] * (len(PERSON_COLUMNS) + 1)
    raw = {name: stored[1 + at] for at, name in enumerate(PERSON_COLUMNS)}
    raw = {**raw, "company": raw["account__name"], "domain": raw["account__domain"]}
    return members, ids, cleaned_columns(raw)


class _Interner:
    """Codes for the values of one column as they stream past (first seen, first code; '' is 0)."""

    def __init__(self) -> None:
        self.index: dict = {"": 0}
        self.codes = array("q")

    def add(self, values: Sequence) -> None:
        index = self.index
        fresh = [value for value in dict.fromkeys(values) if value not in index]
        if fresh:
            index.update(zip(fresh, range(len(index), len(index) + len(fresh))))
        self.codes.extend(map(index.__getitem__, values))

    def column(self) -> Column:
        vocab = np.empty(len(self.index), dtype=object)
        vocab[:] = list(self.index)
        return Column(codes=np.frombuffer(self.codes, dtype=np.int64), vocab=vocab)


_RAW_PERSON_COLUMNS = tuple(name for name in PERSON_COLUMNS[1:] if "__" not in name)


def contact_columns(*, chunk: int = 5000, updated_since=None) -> tuple[np.ndarray, dict[str, Column]]:
    """Every contact's values (or those changed since ``updated_since``) as the matcher sees
    them, field by field, in id order.

    No object per contact: each stored column streams into integer codes of its distinct
    values, and each distinct value is cleaned once (names, towns and birth dates repeat).
    The company and domain come from the contact's account, read once per account.
    """
    quote = connection.ops.quote_name
    contact, account = Contact._meta, Account._meta
    # Dates as text: the cleaner wants '1980-03-04' anyway, and the driver's date objects cost
    # more than the rest of the row.
    stored = ", ".join(
        f"CAST({quote(contact.get_field(name).column)} AS TEXT)" if name == "birth_date" else quote(contact.get_field(name).column)
        for name in _RAW_PERSON_COLUMNS
    )
    ids, account_ids = array("q"), array("q")
    raw = {name: _Interner() for name in _RAW_PERSON_COLUMNS}
    with connection.cursor() as cursor:
        changed = f"WHERE {quote('updated_at')} >= %s " if updated_since is not None else ""
        cursor.execute(
            f"SELECT {quote('id')}, {quote('account_id')}, {stored} FROM {quote(contact.db_table)} {changed}ORDER BY {quote('id')}",
            [contact.get_field("updated_at").get_db_prep_value(updated_since, connection)] if updated_since is not None else [],
        )
        while rows := cursor.fetchmany(chunk):
            by_column = list(zip(*rows))
            ids.extend(by_column[0])
            account_ids.extend(0 if value is None else value for value in by_column[1])
            for interner, values in zip(raw.values(), by_column[2:], strict=True):
                interner.add(values)
        cursor.execute(f"SELECT {quote('id')}, {quote('name')}, {quote('domain')} FROM {quote(account.db_table)} ORDER BY {quote('id')}")
        accounts = cursor.fetchall()
    # Cleaned one field at a time, each stored column dropped once cleaned (peak memory).
    cleaned = {name: raw.pop(source).column().mapped_many(partial(clean_column, name)) for name, source, _ in PERSON_FIELDS if source in raw}
    # The account's position (1-based; 0 for none) indexes its name and domain.
    account_order = np.asarray([row[0] for row in accounts], dtype=np.int64)
    wanted = np.frombuffer(account_ids, dtype=np.int64)
    found = np.minimum(np.searchsorted(account_order, wanted), max(len(account_order) - 1, 0))
    known = (wanted != 0) & (account_order[found] == wanted) if len(account_order) else np.zeros(len(wanted), dtype=bool)
    position = np.where(known, found + 1, 0)
    for name, at in (("company", 1), ("domain", 2)):
        vocab = np.empty(len(accounts) + 1, dtype=object)
        vocab[:] = ["", *(row[at] or "" for row in accounts)]
        cleaned[name] = Column(codes=position, vocab=vocab).mapped_many(partial(clean_column, name))
    return np.frombuffer(ids, dtype=np.int64), with_derived(cleaned)


_params_cache: dict[str, tuple[float, MatchParameters]] = {}
# Capture asks for the model on every batch; a newer model is picked up within this many seconds
# (at once in the process that saved it).
PARAMETERS_TTL = 30.0


def current_parameters(kind: str = RecordKind.CONTACT) -> MatchParameters:
    """The newest model's parameters, or the defaults before any scan."""
    import time

    cached = _params_cache.get(kind)
    if cached and time.monotonic() - cached[0] < PARAMETERS_TTL:
        return cached[1]
    latest = MatchModel.objects.filter(kind=kind).order_by("-created_at", "-id").values_list("parameters", flat=True).first()
    params = MatchParameters.from_json(latest) if latest else MatchParameters.default()
    _params_cache[kind] = (time.monotonic(), params)
    return params


def forget_parameters() -> None:
    _params_cache.clear()


def distinct_pairs(kind: str, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of these (smaller id, larger id) pairs someone said are not duplicates."""
    pairs = set(pairs)
    if not pairs:
        return set()
    lefts = {a for a, _ in pairs}
    found = Decision.objects.filter(kind=kind, verdict=Decision.Verdict.DISTINCT)
    if len(lefts) <= 2000:
        found = found.filter(left_id__in=lefts)
    found = found.values_list("left_id", "right_id")
    return {pair for pair in found if pair in pairs}


class PairRows(NamedTuple):
    """Stored pairs as columns: smaller id, larger id, row id, and whether still pending."""

    left: np.ndarray
    right: np.ndarray
    row_id: np.ndarray
    pending: np.ndarray


def suggestion_pair_rows(kind: str) -> PairRows:
    """Every stored suggestion of this kind, as columns (what a scan compares its pairs with)."""
    rows = Suggestion.objects.filter(kind=kind).values_list("left_id", "right_id", "id", "status")
    left, right, row_id, status = (list(column) for column in zip(*rows)) if rows else ([], [], [], [])
    return PairRows(
        left=np.asarray(left, dtype=np.int64),
        right=np.asarray(right, dtype=np.int64),
        row_id=np.asarray(row_id, dtype=np.int64),
        pending=np.asarray([value == SuggestionStatus.PENDING for value in status], dtype=bool),
    )


def distinct_pair_arrays(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Every pair someone said is not a duplicate, as (smaller ids, larger ids)."""
    pairs = list(Decision.objects.filter(kind=kind, verdict=Decision.Verdict.DISTINCT).values_list("left_id", "right_id"))
    left = np.asarray([min(a, b) for a, b in pairs], dtype=np.int64)
    right = np.asarray([max(a, b) for a, b in pairs], dtype=np.int64)
    return left, right


def suggestion_queue(*, kind: str = RecordKind.CONTACT, status: str = SuggestionStatus.PENDING, page: int = 1, per_page: int = 25) -> Page:
    queryset = Suggestion.objects.filter(kind=kind, status=status).order_by("-probability", "id")
    return Paginator(queryset, per_page).get_page(page)


def records_for(kind: str, ids: Iterable[int]) -> dict[int, Contact | Account]:
    ids = set(ids)
    if kind == RecordKind.ACCOUNT:
        return Account.objects.in_bulk(ids)
    return Contact.objects.select_related("account", "owner").in_bulk(ids)


def suggestion_get(*, suggestion_id: int) -> Suggestion:
    from django.http import Http404

    suggestion = Suggestion.objects.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise Http404("There is no such suggestion.")
    return suggestion


def merge_get(*, merge_id: int) -> Merge:
    from django.http import Http404

    merge = Merge.objects.select_related("merged_by", "undone_by").filter(pk=merge_id).first()
    if merge is None:
        raise Http404("There is no such merge.")
    return merge


def merges_recent(*, page: int = 1, per_page: int = 25) -> Page:
    return Paginator(Merge.objects.select_related("merged_by", "undone_by").order_by("-merged_at", "-id"), per_page).get_page(page)


def scan_latest() -> Scan | None:
    return Scan.objects.order_by("-created_at", "-id").first()


def pending_count(kind: str = RecordKind.CONTACT) -> int:
    return Suggestion.objects.filter(kind=kind, status=SuggestionStatus.PENDING).count()


def suggestions_touching(kind: str, ids: Iterable[int]) -> Q:
    ids = list(ids)
    return Q(kind=kind) & (Q(left_id__in=ids) | Q(right_id__in=ids))


def timeline(*, kind: str, record_id: int, limit: int = 100) -> list[dict]:
    """The combined history of a record after a merge: touchpoints and stage changes of both
    teams, newest first (for an account: its contacts' touchpoints)."""
    from accord.campaigns.models import Touchpoint
    from accord.crm.models import StageChange

    if kind == RecordKind.ACCOUNT:
        touchpoints = Touchpoint.objects.filter(contact__account_id=record_id)
        changes = StageChange.objects.filter(contact__account_id=record_id)
    else:
        touchpoints = Touchpoint.objects.filter(contact_id=record_id)
        changes = StageChange.objects.filter(contact_id=record_id)
    items = [
        {"at": t.occurred_at, "team": t.team, "what": t.get_kind_display(), "detail": t.subject or t.url or (t.campaign.name if t.campaign else ""), "who": t.actor}
        for t in touchpoints.select_related("campaign", "actor").order_by("-occurred_at", "-id")[:limit]
    ]
    items += [
        {"at": c.changed_at, "team": "", "what": f"Stage {c.from_stage or '—'} → {c.to_stage}", "detail": c.reason, "who": c.changed_by}
        for c in changes.select_related("changed_by").order_by("-changed_at", "-id")[:limit]
    ]
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]
