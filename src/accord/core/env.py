"""Typed readers for ``ACCORD_*`` environment variables, used only by settings."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of yes/no/true/false/1/0, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def load_or_create_secret_key(path: Path) -> str:
    """Keep one generated key per data directory, readable only by its owner."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def parse_database_url(url: str, default_sqlite_path: Path) -> dict:
    """Turn ``sqlite:///path`` or ``postgresql://user:pass@host:port/name`` into Django's dict."""
    url = url.strip()
    if not url:
        return _sqlite(default_sqlite_path)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured("ACCORD_DATABASE_URL names SQLite but no file path")
        return _sqlite(Path(path))
    if parts.scheme in {"postgres", "postgresql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("ACCORD_DATABASE_URL names PostgreSQL but no database")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # PostgreSQL's JIT compiles any query its planner *estimates* as costly; capture's
        # candidate look-up (a correlated count per key) is estimated huge and runs in a few
        # milliseconds, and compiling it cost ~220 ms a statement. Accord's queries are short,
        # so JIT is off unless the URL asks otherwise (?options=-c%20jit%3Don).
        options.setdefault("options", "-c jit=off")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{name}"},
        }
    raise ImproperlyConfigured(
        f"ACCORD_DATABASE_URL must start with sqlite:// or postgresql://, not {parts.scheme!r}"
    )


def _sqlite(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the web process read while the worker writes; IMMEDIATE takes the
            # write lock at BEGIN so two writers queue instead of failing mid-transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # Kept open between requests, as on PostgreSQL: opening a SQLite connection (the WAL
        # pragma, and the functions Django registers on it) cost about 2 ms, a fifth of an
        # API call. WAL readers see every commit on an open connection as on a new one.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
