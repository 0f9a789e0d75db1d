"""Insert (and update) many rows of one model with few round trips and without building model instances.

Django's ``bulk_create`` compiles every value of every object through the query compiler and,
on SQLite, caps a statement at 999 parameters (about 30 contacts). For the capture pipeline's
batches that overhead dominates, so rows go in as tuples: one prepared statement run over the
whole batch on SQLite, multi-row ``VALUES`` statements elsewhere. Values are adapted by each
field's own ``get_db_prep_save`` where the type needs it (dates, decimals, JSON), so what is
stored is exactly what the ORM would store.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router

from accord.core.db import sqlite_page_cache, sqlite_pragma

_PREPARED_TYPES = (models.DateTimeField, models.DateField, models.DecimalField, models.JSONField, models.TimeField)
_ROWS_PER_STATEMENT = 1000
# Rows per INSERT that SQLite runs over and over (see _sqlite_insert_many).
_SQLITE_ROWS_PER_INSERT = 100
_LITERAL_TYPES = frozenset({str, int, bool, type(None)})


def _preparers(fields, connection):
    prepare = []
    for field in fields:
        if connection.vendor == "sqlite" and type(field) is models.DateTimeField:
            prepare.append(_sqlite_datetime(connection.timezone))
        elif type(field) is models.DateTimeField:
            prepare.append(_remembered(field, connection))
        elif isinstance(field, models.JSONField):
            prepare.append(_json_adapter(field, connection))
        elif isinstance(field, _PREPARED_TYPES):
            prepare.append(lambda value, field=field: field.get_db_prep_save(value, connection))
        else:
            prepare.append(None)
    return prepare


def _remembered(field, connection):
    """The field's own preparation, once per distinct value: a batch stamps most rows with the
    same moment, and each preparation looks the time-zone setting up again."""
    seen: dict = {}

    def adapt(value):
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            prepared = seen[value] = field.get_db_prep_save(value, connection)
            return prepared

    return adapt


def _json_adapter(field, connection):
    """The field's own preparation; the empty object most rows carry is prepared once."""
    empty = field.get_db_prep_save({}, connection)

    def adapt(value):
        if type(value) is dict and not value:
            return empty
        return field.get_db_prep_save(value, connection)

    return adapt


def _prepared_rows(rows: Sequence[Sequence[Any]], fields, connection) -> Sequence[Sequence[Any]]:
    """The rows with each value of ``fields`` (the first columns) as the database takes it;
    columns that need no conversion, and any after ``fields``, are left as they are."""
    positions = [(index, adapt) for index, adapt in enumerate(_preparers(fields, connection)) if adapt is not None]
    if not positions or not rows:
        return rows
    # Column by column: a column's distinct values (a batch stamps most rows with the same
    # moment) are prepared once each and looked up for the rest, without a Python loop per row.
    columns = list(zip(*rows))
    for index, adapt in positions:
        column = columns[index]
        try:
            prepared = {value: adapt(value) for value in set(column)}
        except TypeError:  # unhashable values (JSON objects): each prepared on its own
            columns[index] = list(map(adapt, column))
        else:
            columns[index] = list(map(prepared.__getitem__, column))
    return list(zip(*columns))


def rows_insert(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (tuples in the order of ``columns``, foreign keys as ids); the new ids if asked."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    column_sql = ", ".join(quote(field.column) for field in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    prepared = _prepared_rows(rows, fields, connection)

    ids: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and not returning_ids:
            _sqlite_insert_many(cursor, connection, table, column_sql, row_sql, prepared)
            return ids
        if connection.vendor == "sqlite" and connection.in_atomic_block and isinstance(meta.pk, models.AutoField):
            return _sqlite_insert_numbered(cursor, connection, table, column_sql, row_sql, prepared, quote(meta.pk.column))
        if connection.vendor == "postgresql" and (not returning_ids or isinstance(meta.pk, models.AutoField)):
            return _postgres_copy(cursor, meta, quote, column_sql, prepared, returning_ids)
        limit = _ROWS_PER_STATEMENT
        if connection.vendor == "sqlite":
            limit = max(1, min(limit, _sqlite_max_params(connection) // len(fields)))
        returning = f" RETURNING {quote(meta.pk.column)}" if returning_ids else ""
        for start in range(0, len(prepared), limit):
            chunk = prepared[start : start + limit]
            sql = f"INSERT INTO {table} ({column_sql}) VALUES {', '.join([row_sql] * len(chunk))}{returning}"
            cursor.execute(sql, [value for row in chunk for value in row])
            if returning_ids:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _postgres_copy(cursor, meta, quote, column_sql: str, rows, returning_ids: bool) -> list[int]:
    """``COPY … FROM STDIN``: the rows stream to the server without an SQL statement to build
    and parse (a multi-row VALUES of a thousand contacts has 35,000 placeholders, which the
    driver splits and quotes one by one). Ids, when wanted, are drawn from the table's own
    sequence first and written with the rows, as the column's default would have done."""
    ids: list[int] = []
    pk_column = meta.pk.column
    if returning_ids:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk_column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        column_sql = f"{quote(pk_column)}, {column_sql}"
    data = _copy_text(cursor.cursor, rows)
    with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({column_sql}) FROM STDIN") as copy:
        if data is None:
            for row in rows:
                copy.write_row(row)
        else:
            copy.write(data)
    return ids


# COPY's text format: these characters of a value are written as backslash escapes (as the
# driver's own write_row escapes them).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\v": "\\v", "\f": "\\f"})
_NUMBERS = frozenset({bool, int, float, Decimal})


def _copy_text(pg_cursor, rows) -> bytes | None:
    """The rows in COPY's text format, as the driver's write_row would send them row by row,
    built column by column: each distinct value of a column is dumped (by the driver's own
    dumper for its type) and escaped once. An import's rows repeat most of their values (the
    batch's moment, defaults, a few towns and titles), and dumping every value of every row
    through write_row cost more than the server's work on them. None when a value holds a
    NUL, which only write_row reports as the driver does."""
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer(pg_cursor)
    encoding = pg_cursor.connection.info.encoding

    def text(value) -> str:
        if value is None:
            return "\\N"
        kind = type(value)
        if kind is str:
            return value.translate(_COPY_ESCAPES)
        if kind is bool:
            return "t" if value else "f"
        if kind is int:
            return str(value)
        return bytes(transformer.get_dumper(value, PyFormat.TEXT).dump(value)).decode(encoding).translate(_COPY_ESCAPES)

    columns = []
    for column in zip(*rows):
        kinds = set(map(type, column))
        if len(kinds & _NUMBERS) > 1:  # True == 1 == 1.0: keyed by type too
            texts = {(type(value), value): text(value) for value in column}
            columns.append([texts[type(value), value] for value in column])
            continue
        try:
            texts = {value: text(value) for value in set(column)}
        except TypeError:  # unhashable values (JSON objects): each on its own
            columns.append([text(value) for value in column])
        else:
            columns.append(list(map(texts.__getitem__, column)))
    data = "\n".join(map("\t".join, zip(*columns)))
    if "\x00" in data:
        return None
    return (data + "\n").encode(encoding)


def _sqlite_insert_many(cursor, connection, table: str, column_sql: str, row_sql: str, rows) -> None:
    """The rows in order, through one prepared INSERT of ``_SQLITE_ROWS_PER_INSERT`` rows run
    over them chunk after chunk (the last few rows through a one-row INSERT).

    SQLite compiles each statement once either way, but every run of a statement costs a
    step and a reset besides binding its values: a hundred rows per run cost about a third
    less than one (500,000 match keys of an import: 3.1 s against 2.0 s). A column with the
    same value in every row (a batch's moment, the defaults) is written into the statement
    as a literal instead of being bound again for each row.
    """
    width = len(rows[0])
    literals = [_sqlite_literal(column) for column in zip(*rows)] if len(rows) > 1 else [None] * width
    bound = [index for index, literal in enumerate(literals) if literal is None]
    if len(bound) < width:
        row_sql = "(" + ", ".join("%s" if literal is None else literal for literal in literals) + ")"
        pick = itemgetter(*bound) if len(bound) > 1 else (lambda row: (row[bound[0]],)) if bound else (lambda row: ())
        rows = list(map(pick, rows))
        width = len(bound)
    per = max(1, min(_SQLITE_ROWS_PER_INSERT, _sqlite_max_params(connection) // max(width, 1)))
    whole = len(rows) - len(rows) % per
    if whole:
        flat = list(chain.from_iterable(rows[:whole]))
        step = per * width
        statement = f"INSERT INTO {table} ({column_sql}) VALUES {', '.join([row_sql] * per)}"
        if step:
            cursor.executemany(statement, [flat[start : start + step] for start in range(0, len(flat), step)])
        else:
            for _ in range(whole // per):
                cursor.execute(statement, ())
    if whole < len(rows):
        cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES {row_sql}", rows[whole:])


def _sqlite_literal(column: Sequence[Any]) -> str | None:
    """The SQL literal of the one value every row has in this column, stored exactly as the
    bound value would be; None when the values differ or the type is not one written so
    (floats, for one, stay bound: SQLite's reading of a decimal literal may round)."""
    first, last = column[0], column[-1]
    kind = type(first)
    if kind not in _LITERAL_TYPES or last != first or type(last) is not kind:  # most columns differ at once
        return None
    try:
        if len(set(column)) != 1 or len(set(map(type, column))) != 1:  # True == 1: the types too
            return None
    except TypeError:  # unhashable
        return None
    if first is None:
        return "NULL"
    if kind is bool:
        return "1" if first else "0"
    if kind is int:
        return str(first)
    if len(first) > 200 or "\x00" in first:
        return None
    # Quotes doubled for SQL, "%" doubled for the driver's placeholder syntax.
    return "'" + first.replace("'", "''").replace("%", "%%") + "'"


def _sqlite_insert_numbered(cursor, connection, table: str, column_sql: str, row_sql: str, rows, pk_column: str) -> list[int]:
    """The rows through ``_sqlite_insert_many``, then their ids.

    Inside a transaction SQLite holds the write lock from the first insert on, so nobody else
    inserts in between and the rows get consecutive ids ending at ``last_insert_rowid()``. The
    count of rows in that range proves it; a multi-row ``VALUES … RETURNING`` statement, which
    SQLite parses anew for every chunk, is the slower way to learn them.
    """
    _sqlite_insert_many(cursor, connection, table, column_sql, row_sql, rows)
    cursor.execute("SELECT last_insert_rowid()")
    (last,) = cursor.fetchone()
    first = last - len(rows) + 1
    cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {pk_column} BETWEEN %s AND %s", [first, last])
    (count,) = cursor.fetchone()
    if count != len(rows):
        raise RuntimeError(f"{table}: {len(rows)} rows inserted but {count} ids in {first}..{last}")
    return list(range(first, last + 1))


def rows_update(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``columns`` on many rows: each row is its values in the order of ``columns``, then its id.

    One prepared ``UPDATE … WHERE id = %s`` run over all rows: unlike ``bulk_update``, whose
    ``CASE WHEN id = … THEN …`` per column grows with the batch and is compiled value by value,
    the statement stays small and each row is one indexed write.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    prepared = _prepared_rows(rows, fields, connection)  # the id after the values passes through as is
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)


def _sqlite_datetime(zone):
    """What SQLite's adapt_datetimefield_value stores (naive text in the connection's zone), without its checks per value."""

    seen: dict[datetime, str] = {}  # a batch stamps most rows with the same moment

    def adapt(value):
        if value is None:
            return None
        text = seen.get(value)
        if text is None:
            naive = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo is not None else value
            text = seen[value] = str(naive)
        return text

    return adapt


def _sqlite_max_params(connection) -> int:
    import sqlite3

    try:
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):
        return 999


@contextmanager
def checkpoints_spaced(
    *, pages: int = 16384, cache_mib: int = 64, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """On SQLite, let the write-ahead log grow to ``pages`` pages between checkpoints while a bulk
    write commits batch after batch, and checkpoint once at the end; and keep up to
    ``cache_mib`` MiB of pages in memory meanwhile (``accord.core.db.sqlite_page_cache``).

    By default SQLite copies the log into the database after every commit that leaves more than
    1,000 pages in it: each batch of an import would rewrite (and sync) the same index pages
    again. And its page cache holds 2 MB: each batch inserts into indexes spread over many more
    pages (emails, match keys), so it read them back from the file again and again (2.7 GB read
    for 100,000 rows, 0.3 GB with 64 MB). Other connections keep their own settings, and this
    one gets its own back at the end; nothing changes elsewhere.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    try:
        with sqlite_pragma("wal_autocheckpoint", pages, using=using), sqlite_page_cache(mib=cache_mib, using=using):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def collected_between_batches() -> Iterator[Callable[[], None]]:
    """Pause Python's automatic cycle collection while a bulk write runs; the caller collects the
    young objects after each batch with the function this yields.

    A batch creates and drops hundreds of thousands of objects (rows, leads, values), and the
    automatic collector, triggered by that churn, kept walking every long-lived object of the
    process (caches, models, modules) again: seconds for 100,000 rows. Collecting the two young
    generations once per batch frees the same cycles, a batch later at most.
    """
    if not gc.isenabled():
        yield lambda: None
        return
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        gc.enable()
