"""accord bench ingest: how fast leads get in.

1. Bulk import of N contact rows (100,000 by default, each recording a touchpoint) through the
   capture pipeline — the whole ``accord import contacts`` path: decoding the CSV, validating and
   normalizing every row, matching, accounts, contacts, stage history, touchpoints — against a
   plain ``sqlite3`` ``executemany`` of the same accounts, contacts and touchpoints into the same
   tables and indexes, measured in the same run. Target: at most 4× the plain insert. Run on a
   temporary SQLite file, and on PostgreSQL too when ``--database-url`` names a server (a
   temporary database is created there and dropped afterwards).
2. ``POST /api/capture`` served by ``accord serve`` (gunicorn) on loopback, driven for
   ``--seconds`` (10 by default) by one client process over one persistent HTTP connection:
   requests per second, p50 and p99 latency. Target: p50 under 15 ms on SQLite.

The database work runs in child processes with their own ``ACCORD_DATABASE_URL``, so the
benchmark never touches the database Accord is configured with.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from accord.bench import Figure, benchmark

DEFAULT_ROWS = 100_000
COMPANIES_PER_CONTACT = 5  # one account per five contacts, as in a real export
RATIO_LIMIT = 4.0
P50_LIMIT_MS = 15.0

# 53 first names (a prime, so the contacts of one company, whose indexes differ by a multiple of
# the company count, rarely share one) and surnames spelled from syllables: the row's index is
# woven into the pair, so no two rows name the same person and every row is a contact of its own.
_FIRST = (
    "ann", "boris", "chloe", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kira", "leon", "maya",
    "nils", "olga", "pablo", "quinn", "rosa", "samuel", "tara", "umar", "vera", "wade", "xenia", "yusuf", "zoe",
    "amir", "bianca", "carlos", "dmitri", "emil", "fiona", "gustav", "hana", "ivan", "julia", "karim", "lucia",
    "marco", "nora", "oscar", "priya", "rafael", "sofia", "tomas", "ulla", "victor", "wilhelmina", "yara", "zeno",
    "aaron", "beatrix", "cyrus",
)
_SYLLABLES = (
    "ba", "ke", "lo", "mi", "nu", "ra", "si", "to", "ve", "da", "fi", "go", "ha", "jo", "ku", "le", "mo", "ne",
    "pa", "ri", "su", "ta", "vo", "zu",
)
_SURNAME_SPAN = len(_SYLLABLES) ** 4
_TITLES = ("Marketing Manager", "VP Sales", "Analyst", "CTO", "Head of Growth", "Operations Manager")
_CITIES = ("New York", "Austin", "Chicago", "Boston", "Seattle", "Denver")
CSV_COLUMNS = ("email", "first_name", "last_name", "phone", "job_title", "company", "city", "country")


def _surname(number: int) -> str:
    """A pronounceable surname for ``number``, different for every number.

    Neighbouring numbers are spread over the whole range first (multiplying by a number coprime
    to it is a bijection), so surnames differ in every syllable, not only the last, and do not
    look like typos of each other. Then the base-24 digits, at least four, become syllables.
    """
    high, low = divmod(number, _SURNAME_SPAN)
    number = high * _SURNAME_SPAN + (low * 7919 + 4649) % _SURNAME_SPAN
    syllables = []
    while number or len(syllables) < 4:
        number, digit = divmod(number, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return "".join(syllables)


def bench_rows(count: int, seed: int = 42) -> list[dict[str, str]]:
    """Realistic, already-normalized rows (so the plain insert stores exactly what the pipeline stores).

    Every row is a different person — own name, own email, own phone — so N rows make N contacts
    and the measurement is of the pipeline, not of what the matcher folds together.
    """
    rng = random.Random(seed)
    companies = max(1, count // COMPANIES_PER_CONTACT)
    rows = []
    for index in range(count):
        company = index % companies
        first, last = _FIRST[index % len(_FIRST)], _surname(index // len(_FIRST))
        rows.append(
            {
                "email": f"{first}.{last}@company{company}.example",
                "first_name": first.title(),
                "last_name": last.title(),
                "phone": f"+1415{2000000 + index % 7999999:07d}",
                "job_title": rng.choice(_TITLES),
                "company": f"Company {company}",
                "city": rng.choice(_CITIES),
                "country": "US",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


# --- the baseline: plain sqlite3, no Django -------------------------------------------------

_BASELINE_TABLES = ("crm_account", "crm_contact", "campaigns_touchpoint")


def _schema(sqlite_path: Path) -> list[str]:
    """CREATE statements of the tables the rows land in, with all their indexes, from a migrated database."""
    with sqlite3.connect(sqlite_path) as db:
        marks = ",".join("?" * len(_BASELINE_TABLES))
        tables = db.execute(f"SELECT sql FROM sqlite_master WHERE type='table' AND name IN ({marks})", _BASELINE_TABLES)
        indexes = db.execute(
            f"SELECT sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            _BASELINE_TABLES,
        )
        return [row[0] for row in tables] + [row[0] for row in indexes]


def baseline_seconds(schema: list[str], rows: list[dict[str, str]], path: Path) -> float:
    """Plain executemany of the same accounts, contacts and touchpoints in one transaction."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    for statement in schema:
        db.execute(statement)
    moment = str(datetime.now(UTC).replace(tzinfo=None))
    started = time.perf_counter()
    db.execute("BEGIN")
    companies: dict[str, int] = {}
    accounts = []
    for row in rows:
        if row["company"] not in companies:
            companies[row["company"]] = len(companies) + 1
            accounts.append((len(companies), row["company"], row["email"].rpartition("@")[2], row["country"], moment, moment))
    db.executemany(
        "INSERT INTO crm_account (id, name, domain, industry, country, website, created_at, updated_at) "
        "VALUES (?, ?, ?, '', ?, '', ?, ?)",
        accounts,
    )
    db.executemany(
        "INSERT INTO crm_contact (id, email, first_name, last_name, phone, job_title, seniority, account_id, "
        "lifecycle_stage, stage_changed_at, street, city, postcode, state, country, external_id, score, grade, "
        "do_not_contact, first_touch_channel, first_touch_at, latest_touch_channel, latest_touch_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, 'lead', ?, '', ?, '', '', ?, '', 0, '', 0, 'direct', ?, "
        "'direct', ?, ?, ?)",
        [
            (
                number, row["email"], row["first_name"], row["last_name"], row["phone"], row["job_title"],
                companies[row["company"]], moment, row["city"], row["country"], moment, moment, moment, moment,
            )
            for number, row in enumerate(rows, start=1)
        ],
    )
    db.executemany(
        "INSERT INTO campaigns_touchpoint (contact_id, kind, channel, team, occurred_at, url, utm_source, "
        "utm_medium, utm_campaign, subject, body, metadata, dedupe_key, created_at) "
        "VALUES (?, 'import', 'direct', 'marketing', ?, '', '', '', '', '', '', '{}', ?, ?)",
        [(number, moment, f"{number:064x}", moment) for number in range(1, len(rows) + 1)],
    )
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


# --- child processes with their own database -------------------------------------------------


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {**os.environ, "ACCORD_DATA_DIR": str(data_dir), "ACCORD_DATABASE_URL": database_url, "ACCORD_DEBUG": "no"}


def _child(env: dict[str, str], *args: str, timeout: float = 1800) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "accord.bench.ingest", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark step {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _accord(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "accord.cli", *args], env=env, check=True, capture_output=True, timeout=600)


def _pipeline_figure(label: str, env: dict[str, str], csv_path: Path, rows: int, baseline: float, stdout) -> Figure:
    stdout.write(f"  importing {rows:,} rows through the pipeline on {label}…")
    result = _child(env, "pipeline", str(csv_path))
    ratio = result["seconds"] / baseline
    stdout.write(
        f"  {label}: pipeline {result['seconds']:.2f} s ({rows / result['seconds']:,.0f} rows/s), "
        f"plain executemany {baseline:.2f} s, {ratio:.2f}×"
    )
    return Figure(
        target=f"bulk import {rows:,} rows via pipeline vs plain insert ({label})",
        figure=round(ratio, 2),
        unit="x",
        limit=RATIO_LIMIT,
        details={
            "rows": rows,
            "pipeline_seconds": round(result["seconds"], 3),
            "baseline_seconds": round(baseline, 3),
            "baseline": "sqlite3 executemany of the same accounts, contacts and touchpoints, same tables and indexes",
            "stored": result["stored"],
            "database": label,
        },
    )


def _postgres_scratch(url: str):
    """A fresh database on the server named by ``url``: (its URL, a function that drops it)."""
    import psycopg

    parts = urlsplit(url)
    name = f"accord_bench_{os.getpid()}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as again:
            again.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _http_figures(env: dict[str, str], seconds: float, stdout) -> list[Figure]:
    token = _child(env, "token")["token"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "accord.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(port, server)
        stdout.write(f"  POST /api/capture for {seconds:g} s against accord serve (gunicorn) on 127.0.0.1:{port}…")
        latencies, errors = capture_load(port=port, token=token, seconds=seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if not latencies:
        raise RuntimeError("no request to /api/capture succeeded")
    latencies.sort()
    count = len(latencies)
    p50 = latencies[count // 2] * 1000
    p99 = latencies[min(count - 1, int(count * 0.99))] * 1000
    rate = count / seconds
    stdout.write(f"  {count:,} captures, {rate:,.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors")
    details = {"requests": count, "errors": errors, "seconds": seconds, "server": "gunicorn (accord serve)",
               "client": "one process, one persistent connection", "mean_ms": round(statistics.fmean(latencies) * 1000, 2)}
    return [
        Figure(target="POST /api/capture p50 latency (SQLite)", figure=round(p50, 2), unit="ms", limit=P50_LIMIT_MS, details=details),
        Figure(target="POST /api/capture p99 latency (SQLite)", figure=round(p99, 2), unit="ms", details=details),
        Figure(target="POST /api/capture throughput (SQLite)", figure=round(rate, 1), unit="req/s", details=details),
    ]


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("accord serve exited before it answered")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/openapi.json")
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("accord serve did not answer in time")


def capture_load(*, port: int, token: str, seconds: float) -> tuple[list[float], int]:
    """One client, one persistent connection, one request after the other; latencies in seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    number = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        number += 1
        body = json.dumps(
            {
                "email": f"load.{number}@company{number % 500}.example",
                "first_name": "Load",
                "last_name": f"Test {number}",
                "company": f"Company {number % 500}",
                "landing_url": "https://example.com/pricing?utm_source=bench&utm_medium=cpc",
            }
        )
        started = time.perf_counter()
        connection.request("POST", "/api/capture", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status in (200, 201):
            latencies.append(elapsed)
        else:
            errors += 1
    connection.close()
    return latencies, errors


@benchmark("ingest")
def ingest(*, stdout, size: int | None = None, database_url: str = "", seconds: float | None = None) -> list[Figure]:
    rows_wanted = size or DEFAULT_ROWS
    load_seconds = DEFAULT_LOAD_SECONDS if seconds is None else seconds
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        work = Path(tmp)
        rows = bench_rows(rows_wanted)
        csv_path = work / "contacts.csv"
        write_csv(csv_path, rows)

        schema_db = work / "schema.sqlite3"
        _accord(_env(work / "schema", f"sqlite:///{schema_db}"), "migrate", "--noinput")
        schema = _schema(schema_db)
        # The best of three plain runs: the more favourable the baseline, the stricter the ratio.
        baseline = min(baseline_seconds(schema, rows, work / "plain.sqlite3") for _ in range(3))

        # Fresh copies of the migrated, empty database for the pipeline and for the server.
        for copy in ("pipeline.sqlite3", "http.sqlite3"):
            shutil.copyfile(schema_db, work / copy)
        sqlite_env = _env(work / "sqlite", f"sqlite:///{work / 'pipeline.sqlite3'}")
        figures.append(_pipeline_figure("SQLite", sqlite_env, csv_path, rows_wanted, baseline, stdout))
        if database_url:
            scratch, drop = _postgres_scratch(database_url)
            try:
                pg_env = _env(work / "pg", scratch)
                _accord(pg_env, "migrate", "--noinput")
                figures.append(_pipeline_figure("PostgreSQL", pg_env, csv_path, rows_wanted, baseline, stdout))
            finally:
                drop()
        if load_seconds > 0:
            figures.extend(_http_figures(_env(work / "http", f"sqlite:///{work / 'http.sqlite3'}"), load_seconds, stdout))
    return figures


DEFAULT_LOAD_SECONDS = 10.0


# --- what the child processes run ------------------------------------------------------------


def _child_main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    action = argv[0]
    if action == "pipeline":
        from accord.campaigns.models import Touchpoint
        from accord.crm.models import Account, Contact
        from accord.integrations.services import contacts_import

        path = Path(argv[1])
        started = time.perf_counter()
        result = contacts_import(data=path.read_bytes(), file_name=path.name)
        elapsed = time.perf_counter() - started
        stored = {
            "contacts": Contact.objects.count(),
            "accounts": Account.objects.count(),
            "touchpoints": Touchpoint.objects.count(),
            "rejected": result.job.rejected_count,
        }
        print(json.dumps({"seconds": elapsed, "stored": stored}))
    elif action == "token":
        from accord.core.models import Role, Team, User
        from accord.core.services import api_token_create

        user = User.objects.create_user(username="bench", password=None, role=Role.MARKETING, team=Team.MARKETING)
        _, raw = api_token_create(user=user, name="bench")
        print(json.dumps({"token": raw}))
    else:
        raise SystemExit(f"unknown step {action!r}")


if __name__ == "__main__":
    _child_main(sys.argv[1:])
