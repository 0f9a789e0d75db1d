from __future__ import annotations

import pytest
from django.conf import settings

from accord.worker import registry

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL (set ACCORD_DATABASE_URL): real concurrent connections and row locks"
)


@pytest.fixture
def register():
    """Register job handlers for one test and forget them afterwards."""
    added: list[str] = []

    def add(name, function, **options):
        registry.job_handler(name, **options)(function)
        added.append(name)
        return function

    yield add
    for name in added:
        registry._HANDLERS.pop(name, None)
