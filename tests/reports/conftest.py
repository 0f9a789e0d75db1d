"""Report tests render pages that extend base.html, which links to the sign-out URL. Until
the web app's login pages are on main, a stand-in name keeps those pages renderable."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse


def _needs_shim() -> bool:
    try:
        reverse("logout")
        reverse("login")
    except NoReverseMatch:
        return True
    return False


@pytest.fixture(autouse=True)
def _auth_urls(settings):
    if _needs_shim():
        settings.ROOT_URLCONF = "tests.reports.urls_shim"
    yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made in nearly every test; the real hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
