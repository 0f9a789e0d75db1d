"""ACCORD_DATABASE_URL turns into Django's database settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from accord.core.env import parse_database_url


def test_postgresql_urls_give_their_parts_and_turn_jit_off_unless_asked():
    config = parse_database_url("postgresql://ann:s%40cret@db.example:5433/crm?sslmode=require", Path("unused"))
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "crm", "ann", "s@cret", "db.example", "5433",
    )
    assert config["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}
    asked = parse_database_url("postgresql://db/crm?options=-c%20jit%3Don", Path("unused"))
    assert asked["OPTIONS"]["options"] == "-c jit=on"


def test_sqlite_urls_and_the_default_name_a_file(tmp_path):
    assert parse_database_url(f"sqlite:///{tmp_path}/a.db", tmp_path / "x.db")["NAME"] == f"{tmp_path}/a.db"
    assert parse_database_url("", tmp_path / "default.db")["NAME"] == str(tmp_path / "default.db")
    with pytest.raises(ImproperlyConfigured, match="sqlite:// or postgresql://"):
        parse_database_url("mysql://db/crm", tmp_path / "x.db")


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_connections_to_postgresql_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_sqlite_connections_are_kept_between_requests_like_postgresql_ones(tmp_path):
    sqlite = parse_database_url(f"sqlite:///{tmp_path}/a.db", tmp_path / "x.db")
    postgres = parse_database_url("postgresql://db/crm", Path("unused"))
    assert sqlite["CONN_MAX_AGE"] == postgres["CONN_MAX_AGE"] > 0
    assert sqlite["CONN_HEALTH_CHECKS"] is True
