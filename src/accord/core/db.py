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
