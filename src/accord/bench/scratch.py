"""A throw-away database for a benchmark, so `accord bench` never touches real data.

Without a URL: a new SQLite file in a temporary directory. With a PostgreSQL URL: a new
database named after it with a ``_<name>`` suffix (one per benchmark, so two benchmarks can run
side by side on one server), dropped afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from accord.core.env import parse_database_url


@contextmanager
def scratch_database(database_url: str = "", *, name: str = "bench") -> Iterator[str]:
    """Point the default connection at a fresh, migrated database; yield its vendor."""
    original = dict(connections.settings["default"])
    with tempfile.TemporaryDirectory(prefix=f"accord-{name}-") as folder:
        config = parse_database_url(database_url, Path(folder) / "bench.sqlite3")
        created_pg = False
        if config["ENGINE"].endswith("postgresql"):
            config["NAME"] = f"{config['NAME']}_{name}"
            _pg_admin(config, f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
            _pg_admin(config, f'CREATE DATABASE "{config["NAME"]}"')
            created_pg = True
        _switch(config)
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield connections["default"].vendor
        finally:
            # Worker threads of a benchmark may hold connections of their own.
            connections.close_all()
            _switch(original)
            if created_pg:
                _pg_admin(config, f'DROP DATABASE IF EXISTS "{config["NAME"]}"')


def _switch(config: dict) -> None:
    connections["default"].close()
    connections.settings["default"] = {**connections.settings["default"], **config}
    del connections["default"]


def _pg_admin(config: dict, statement: str) -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user=config.get("USER") or None, host=config.get("HOST") or None,
        port=config.get("PORT") or None, password=config.get("PASSWORD") or None, autocommit=True,
    ) as connection:
        connection.execute(statement)
