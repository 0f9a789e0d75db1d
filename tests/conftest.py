"""Shared test base: a user of each role, and helpers every test module may use."""

from __future__ import annotations

import itertools

import pytest

from accord.core.models import Role, Team, User

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(role: str, *, team: str | None = None, username: str | None = None, **extra) -> User:
    name = username or f"{role}{next(_counter)}"
    default_team = Team.MARKETING if role == Role.MARKETING else Team.SALES
    return User.objects.create_user(
        username=name,
        email=f"{name}@example.test",
        password=PASSWORD,
        role=role,
        team=team or default_team,
        first_name=name.capitalize(),
        **extra,
    )


@pytest.fixture
def marketer(db) -> User:
    return make_user(Role.MARKETING, username="maria")


@pytest.fixture
def rep(db) -> User:
    return make_user(Role.SALES, username="sam")


@pytest.fixture
def manager(db) -> User:
    return make_user(Role.MANAGER, username="mona")


@pytest.fixture
def admin_user(db) -> User:
    return make_user(Role.ADMIN, username="ada")


@pytest.fixture(autouse=True)
def _fresh_match_model():
    """Duplicate detection caches its model per process; each test starts from the defaults."""
    from accord.dedup.queries import forget_parameters

    forget_parameters()
    yield
