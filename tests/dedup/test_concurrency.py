"""Merges racing each other on PostgreSQL: real threads, each on its own connection."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from accord.campaigns.models import Touchpoint
from accord.core.errors import ValidationFailed
from accord.crm.models import Contact
from accord.dedup.services import records_merge
from accord.intake.leads import lead_from_mapping
from accord.intake.services import contact_capture

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: real concurrent connections and row locks"),
    pytest.mark.django_db(transaction=True),
]


def capture(**data) -> Contact:
    return contact_capture(lead=lead_from_mapping(data, default_region="US")).contact


def race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def body(index):
        try:
            barrier.wait()
            outcomes[index] = calls[index]()
        except ValidationFailed as refused:
            outcomes[index] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_a_three_way_chain_merged_from_both_ends_at_once_stays_consistent():
    a = capture(email="sunflower@gmail.com", first_name="Kim", last_name="Olsen")
    b = capture(email="bluebird@gmail.com", first_name="Kim", last_name="Olsen")
    c = capture(email="rockpool@gmail.com", first_name="Kim", last_name="Olsen")
    outcomes = race(
        lambda: records_merge(survivor_id=b.pk, loser_id=a.pk),
        lambda: records_merge(survivor_id=c.pk, loser_id=b.pk),
    )
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    remaining = set(Contact.objects.values_list("pk", flat=True))
    # Either both went through in some order, or the second saw its record gone and said so.
    assert len(remaining) == 3 - (2 - len(refused))
    assert set(Touchpoint.objects.values_list("contact_id", flat=True)) <= remaining
    assert Touchpoint.objects.count() == 3


def test_the_same_pair_merged_twice_at_once_merges_once():
    a = capture(email="sunflower@gmail.com", first_name="Kim", last_name="Olsen")
    b = capture(email="bluebird@gmail.com", first_name="Kim", last_name="Olsen")
    outcomes = race(
        lambda: records_merge(survivor_id=a.pk, loser_id=b.pk),
        lambda: records_merge(survivor_id=b.pk, loser_id=a.pk),
    )
    assert sum(isinstance(o, ValidationFailed) for o in outcomes) == 1
    assert Contact.objects.count() == 1
    assert set(Touchpoint.objects.values_list("contact_id", flat=True)) == set(Contact.objects.values_list("pk", flat=True))
