"""Small database helpers shared by the apps' bulk writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def sqlite_pragma(name: str, value: int, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """On SQLite, set ``PRAGMA name = value`` on this connection for a while and give the
    connection its own value back afterwards; elsewhere, nothing."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA {name}={int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name}={int(before)}")


@contextmanager
def sqlite_page_cache(*, mib: int, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """On SQLite, hold up to ``mib`` MiB of pages in this connection's cache for a bulk write.

    SQLite's default cache is 2 MiB: a write of a hundred thousand rows into a table with
    several indexes evicts and re-reads the same index pages over and over. The cache only
    grows as pages are touched, and shrinks back to its old size afterwards.
    """
    with sqlite_pragma("cache_size", -int(mib) * 1024, using=using):
        yield


@contextmanager
def sqlite_indexes_rebuilt_after(table: str, *, rows: int, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """On SQLite, when ``rows`` new rows are about to go into ``table`` and they are at least
    as many as the rows already there, drop the table's plain secondary indexes for the
    write and build them again from their own stored definitions afterwards; otherwise, and
    elsewhere, nothing.

    Rows arrive in the order of one index at best; every other index takes them at random
    places, which costs SQLite a B-tree descent and often a page split per row (a hundred
    thousand review pairs spent 0.7 s in two such indexes, where building both afterwards
    from a sort took 0.26 s). Unique indexes stay: inserts rely on them for ON CONFLICT.
    Call inside the write's transaction: SQLite's schema changes are transactional, so a
    failed write leaves the indexes as they were, and readers keep their snapshot meanwhile.
    PostgreSQL is left alone because DROP INDEX would lock readers out until the commit.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or rows <= 0:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("sqlite_indexes_rebuilt_after needs the write's transaction around it")
    quote = connection.ops.quote_name
    definitions: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        (present,) = cursor.fetchone()
        if rows >= present:
            cursor.execute(f"PRAGMA index_list({quote(table)})")
            # (seq, name, unique, origin, partial): origin "c" is a CREATE INDEX of the schema.
            plain = [row[1] for row in cursor.fetchall() if not row[2] and row[3] == "c"]
            for name in plain:
                cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
                definitions.append((name, cursor.fetchone()[0]))
                cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for _, sql in definitions:
            cursor.execute(sql)
