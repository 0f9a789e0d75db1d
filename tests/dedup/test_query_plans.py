"""Capture asks the database the same questions for every lead: they must be index look-ups.

A full scan of the contact table per capture batch grows with the base and was invisible in
small tests; SQLite's own plan says whether an index is used.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.core.clock import now
from accord.crm.models import Contact
from accord.dedup.matching import FuzzyMatcher
from accord.intake.leads import lead_from_mapping

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_capture_matching_reads_contacts_through_indexes_not_a_table_scan():
    moment = now()
    Contact.objects.bulk_create(
        Contact(email=f"person{i}@example.com", first_name="Ann", last_name=f"Lee{i}", phone=f"+1415555{i:04d}",
                created_at=moment, updated_at=moment)
        for i in range(50)
    )
    lead = lead_from_mapping(
        {"email": "someone@else.com", "first_name": "Ann", "last_name": "Lee7", "phone": "+14155550007"},
        default_region="US",
    )
    with CaptureQueriesContext(connection) as queries:
        FuzzyMatcher().match_leads([lead])

    contact_reads = [q for q in queries.captured_queries if 'FROM "crm_contact"' in q["sql"]]
    assert contact_reads, "matching read no contacts"
    with connection.cursor() as cursor:
        for query in contact_reads:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plan = " / ".join(row[-1] for row in cursor.fetchall())
            assert "SCAN crm_contact" not in plan.replace("SCAN crm_contact USING", "index "), (query["sql"], plan)
