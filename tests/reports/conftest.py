from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def reports_own_providers(monkeypatch):
    """Report tests decide which KPI providers exist (none, or their own stand-in), so the
    handoff app's real SLA provider neither leaks into them nor gets unregistered by them."""
    monkeypatch.setattr("accord.reports.providers._KPI_PROVIDERS", {})


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made in nearly every test; the real hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
