"""Bulk-write helpers: the indexes of a table written in bulk come back exactly as they were."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accord.core.clock import now
from accord.core.db import sqlite_indexes_rebuilt_after
from accord.dedup.models import Suggestion

pytestmark = pytest.mark.django_db


def _index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL", [table])
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _suggestions(pairs) -> list[Suggestion]:
    moment = now()
    return [Suggestion(left_id=a, right_id=b, probability=0.5 + a / 1000, levels=[1], created_at=moment, updated_at=moment) for a, b in pairs]


def test_a_bulk_write_into_a_table_gets_the_same_indexes_back_and_uses_them():
    table = Suggestion._meta.db_table
    before = _index_definitions(table)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with sqlite_indexes_rebuilt_after(table, rows=50):
            Suggestion.objects.bulk_create(_suggestions((a, a + 1) for a in range(1, 51)))
    assert _index_definitions(table) == before
    dropped = [query["sql"] for query in queries if query["sql"].startswith("DROP INDEX")]
    if connection.vendor == "sqlite":
        # The plain indexes went and came back; the unique pair index (ON CONFLICT needs it) stayed.
        assert {'"dedup_suggestion_queue"', '"dedup_suggestion_right"'} <= {sql.split()[-1] for sql in dropped}
        assert not any("pair_once" in sql for sql in dropped)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE kind = 'contact' AND right_id = 7")
            assert "dedup_suggestion_right" in " ".join(str(row) for row in cursor.fetchall())
    else:
        assert dropped == []  # PostgreSQL would lock readers out: left alone
    assert Suggestion.objects.count() == 50


def test_a_small_write_into_a_bigger_table_keeps_its_indexes():
    Suggestion.objects.bulk_create(_suggestions((a, a + 1) for a in range(1, 101)))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with sqlite_indexes_rebuilt_after(Suggestion._meta.db_table, rows=10):
            Suggestion.objects.bulk_create(_suggestions((a, a + 2) for a in range(1, 11)))
    assert not [query for query in queries if query["sql"].startswith(("DROP INDEX", "CREATE INDEX"))]


def test_a_failed_bulk_write_leaves_the_indexes_and_rows_as_they_were():
    table = Suggestion._meta.db_table
    before = _index_definitions(table)
    with pytest.raises(RuntimeError, match="half-way"):
        with transaction.atomic(), sqlite_indexes_rebuilt_after(table, rows=5):
            Suggestion.objects.bulk_create(_suggestions([(1, 2)]))
            raise RuntimeError("half-way")
    assert _index_definitions(table) == before and not Suggestion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_rebuild_refuses_to_run_outside_the_writes_transaction():
    def outside_a_transaction():
        with sqlite_indexes_rebuilt_after(Suggestion._meta.db_table, rows=5):
            pass

    if connection.vendor == "sqlite":
        with pytest.raises(RuntimeError, match="transaction"):
            outside_a_transaction()
    else:
        outside_a_transaction()  # nothing to drop on PostgreSQL, so nothing to refuse
    assert _index_definitions(Suggestion._meta.db_table)  # and the indexes are all there
