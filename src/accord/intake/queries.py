"""Reads of the capture pipeline: what already exists of a batch's touchpoints and accounts.

Each takes the batch's values at once. On PostgreSQL the values go as one array parameter and
each is looked up through its index (OFFSET 0 keeps the planner from turning the lookups into a
scan of the whole table, which it picks while a bulk import has left the table statistics
behind, and which grows with every batch); elsewhere through the ORM.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.db import connection
from django.db.models import DecimalField
from django.db.models.functions import Lower

from accord.campaigns.models import Touchpoint
from accord.crm.models import Account


def _each_through_index(
    *, table: str, match: str, values: Collection[str], select: Sequence[str], partial: bool = False, order_by: str = ""
) -> list[tuple]:
    """PostgreSQL: ``select`` (SQL over the table's alias ``s``) of the rows whose ``match``
    expression equals one of ``values``. ``partial``: the index holds only non-empty values, and
    the condition is spelled out so that the planner may use it."""
    quote = connection.ops.quote_name
    condition = f" AND NOT ({match} = '')" if partial else ""
    sql = (
        f"SELECT f.* FROM unnest(%s::text[]) AS w (v) CROSS JOIN LATERAL "
        f"(SELECT {', '.join(select)} FROM {quote(table)} s WHERE {match} = w.v{condition} OFFSET 0) f"
    )
    if order_by:
        sql += f" ORDER BY f.{quote(order_by)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(values)])
        return cursor.fetchall()


def touchpoint_keys_recorded(*, keys: Collection[str]) -> set[str]:
    """Which of these dedupe keys a touchpoint already carries."""
    keys = {key for key in keys if key}
    if not keys:
        return set()
    if connection.vendor == "postgresql":
        found = _each_through_index(
            table=Touchpoint._meta.db_table, match="s.dedupe_key", values=keys, select=["s.dedupe_key"], partial=True
        )
        return {row[0] for row in found}
    # Plain SQL (the ORM prepared each of the batch's keys on its own); "not empty" lets the
    # database use the partial unique index on dedupe_key.
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT dedupe_key FROM {quote(Touchpoint._meta.db_table)} "
            f"WHERE dedupe_key IN ({', '.join(['%s'] * len(keys))}) AND NOT (dedupe_key = '')",
            sorted(keys),
        )
        return {row[0] for row in cursor.fetchall()}


def accounts_by_domain(*, domains: Collection[str], columns: Sequence[str]) -> list[tuple]:
    """``columns`` of the accounts with these domains."""
    domains = {domain for domain in domains if domain}
    if not domains:
        return []
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        return _each_through_index(
            table=Account._meta.db_table, match="s.domain", values=domains, select=[f"s.{quote(c)}" for c in columns],
            partial=True,
        )
    # Plain SQL, as above. "Not empty" repeats the condition of the partial unique index on
    # domain, so that the database searches that index instead of reading every account (SQLite
    # does not infer it from a long IN list).
    quote = connection.ops.quote_name
    decimal = {name for name in columns if isinstance(Account._meta.get_field(name), DecimalField)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(name) for name in columns)} FROM {quote(Account._meta.db_table)} "
            f"WHERE domain IN ({', '.join(['%s'] * len(domains))}) AND NOT (domain = '')",
            sorted(domains),
        )
        rows = cursor.fetchall()
    if not decimal:
        return rows
    # As the ORM reads them: SQLite returns decimals as floats.
    at = [index for index, name in enumerate(columns) if name in decimal]
    convert = [Account._meta.get_field(columns[index]).to_python for index in at]
    out = []
    for row in rows:
        row = list(row)
        for index, to_python in zip(at, convert):
            if row[index] is not None:
                row[index] = to_python(row[index])
        out.append(tuple(row))
    return out


def accounts_by_lower_name(*, names: Collection[str], columns: Sequence[str]) -> list[tuple]:
    """(lower-cased name, *``columns``) of the accounts with these lower-cased names, oldest first."""
    if not names:
        return []
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        select = ["LOWER(s.name)", *(f"s.{quote(c)}" for c in columns), "s.id AS accord_order"]
        rows = _each_through_index(
            table=Account._meta.db_table, match="LOWER(s.name)", values=names, select=select, order_by="accord_order"
        )
        return [row[:-1] for row in rows]
    found = Account.objects.annotate(name_lower=Lower("name")).filter(name_lower__in=names).order_by("id")
    return list(found.values_list("name_lower", *columns))
