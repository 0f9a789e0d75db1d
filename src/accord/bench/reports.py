"""accord bench reports: dashboards and attribution at a million contacts.

Generates N contacts (default 1,000,000) with five touchpoints each, their lifecycle moves,
opportunities and 200 campaigns, in a throw-away database (SQLite, and PostgreSQL too when
``--database-url`` names one), refreshes the report snapshots, then measures:

* each dashboard panel and the ROI table, warm (median of 5), against a bare ``COUNT(*)``
  over the touchpoints in the same run — target under 300 ms;
* every attribution model over all conversion paths, against reading those paths once;
* peak memory of the process.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from time import perf_counter

import numpy as np
from django.db import connection, models, transaction

from accord.bench import Figure, benchmark
from accord.bench.scratch import scratch_database

PANEL_LIMIT_MS = 300.0
DEFAULT_CONTACTS = 1_000_000
TOUCHES_PER_CONTACT = 5
CAMPAIGNS = 200
REPEATS = 5
CHANNELS = ["email", "paid_search", "paid_social", "organic_search", "social", "webinar", "event", "content",
            "referral", "partner", "sales", "direct", "other"]
KINDS = ["form_submission", "page_visit", "ad_click", "email_opened", "email_clicked", "webinar", "event", "call", "meeting"]
INDUSTRIES = ["software", "retail", "finance", "healthcare", "manufacturing", "education", "media"]
TITLES = ["Head of Marketing", "VP Sales", "CTO", "Software Engineer", "CFO", "Operations Manager", "Founder", ""]


def _times(epoch: np.ndarray) -> list[str]:
    """Epoch seconds → 'YYYY-MM-DD HH:MM:SS' (UTC), the text both engines read."""
    text = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s")
    suffix = "+00:00" if connection.vendor == "postgresql" else ""
    return [t.replace("T", " ") + suffix for t in text.tolist()]


def _bulk_insert(model: type[models.Model], columns: dict[str, list]) -> None:
    """Insert rows column-wise; every other column gets its field default."""
    n = len(next(iter(columns.values())))
    names, data = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.attname not in columns:
            continue
        names.append(f.column)
        if f.attname in columns:
            data.append(columns[f.attname])
        else:
            default = f.get_default()
            if isinstance(f, models.JSONField):
                default = json.dumps(default if default is not None else {})
            data.append([default] * n)
    table = model._meta.db_table
    rows = zip(*data)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f'COPY {table} ({", ".join(names)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            sql = f'INSERT INTO {table} ({", ".join(names)}) VALUES ({", ".join(["%s"] * len(names))})'
            with connection.cursor() as cursor:
                batch = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 50_000:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)


def _reset_sequences(*models_: type[models.Model]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def generate(*, contacts: int, now: datetime, seed: int = 42, stdout=None) -> dict[str, int]:
    from accord.campaigns.models import Campaign, Touchpoint
    from accord.crm.models import Account, Contact, Opportunity, StageChange

    rng = np.random.default_rng(seed)
    if connection.vendor == "sqlite":
        # A scratch file: no need to survive a power cut, and a large page cache keeps the
        # touchpoint indexes from thrashing while millions of rows go in.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1048576")
    t_end = int(now.timestamp())
    t_start = t_end - 730 * 86400

    # campaigns
    ids = np.arange(1, CAMPAIGNS + 1)
    channel_of_campaign = rng.choice([c for c in CHANNELS if c not in ("direct", "sales")], CAMPAIGNS)
    starts = rng.integers(t_start, t_end - 30 * 86400, CAMPAIGNS)
    cost = np.round(rng.uniform(500, 50000, CAMPAIGNS), 2)
    start_dates = [datetime.fromtimestamp(int(s), dt_timezone.utc).date() for s in starts]
    _bulk_insert(
        Campaign,
        {
            "id": ids.tolist(),
            "name": [f"Campaign {i}" for i in ids],
            "channel": channel_of_campaign.tolist(),
            "status": ["active"] * CAMPAIGNS,
            "utm_campaign": [f"bench-{i}" for i in ids],
            "start_date": start_dates,
            "end_date": [d + timedelta(days=int(rng.integers(7, 120))) for d in start_dates],
            "actual_cost": [None if i % 17 == 0 else float(c) for i, c in zip(ids, cost)],
            "currency": ["EUR" if i % 41 == 0 else "USD" for i in ids],
            "created_at": _times(starts),
            "updated_at": _times(starts),
        },
    )

    # accounts
    n_accounts = max(contacts // 20, 1)
    acc_ids = np.arange(1, n_accounts + 1)
    employees = np.exp(rng.uniform(0, 9.5, n_accounts)).astype(np.int64)
    acc_created = _times(np.full(n_accounts, t_start))
    _bulk_insert(
        Account,
        {
            "id": acc_ids.tolist(),
            "name": [f"Company {i}" for i in acc_ids],
            "industry": rng.choice(INDUSTRIES, n_accounts).tolist(),
            "employee_count": employees.tolist(),
            "created_at": acc_created,
            "updated_at": acc_created,
        },
    )
    if stdout:
        stdout.write(f"  {CAMPAIGNS} campaigns, {n_accounts:,} accounts")

    # contacts and their lifecycle
    cids = np.arange(1, contacts + 1)
    created = rng.integers(t_start, t_end - 86400, contacts)
    account = np.where(rng.random(contacts) < 0.6, rng.integers(1, n_accounts + 1, contacts), 0)
    first_campaign = np.where(rng.random(contacts) < 0.7, rng.integers(1, CAMPAIGNS + 1, contacts), 0)
    source = np.where(first_campaign > 0, channel_of_campaign[np.maximum(first_campaign - 1, 0)], rng.choice(CHANNELS, contacts))

    def later(base, mean_days):
        return base + (rng.exponential(mean_days, len(base)) * 86400).astype(np.int64) + 3600

    mql_t = later(created, 6)
    is_mql = (rng.random(contacts) < 0.3) & (mql_t < t_end)
    sal_t = later(mql_t, 1)
    is_sal = is_mql & (rng.random(contacts) < 0.55) & (sal_t < t_end)
    recycled_t = later(mql_t, 2)
    is_recycled = is_mql & ~is_sal & (rng.random(contacts) < 0.3) & (recycled_t < t_end)
    sql_t = later(sal_t, 3)
    is_sql = is_sal & (rng.random(contacts) < 0.7) & (sql_t < t_end)
    opp_t = later(sql_t, 5)
    is_opp = is_sql & (rng.random(contacts) < 0.5) & (opp_t < t_end)
    cust_t = later(opp_t, 30)
    is_cust = is_opp & (rng.random(contacts) < 0.35) & (cust_t < t_end)

    stages = [("lead", np.ones(contacts, bool), created, "")]
    stages += [("mql", is_mql, mql_t, "lead"), ("sal", is_sal, sal_t, "mql"), ("recycled", is_recycled, recycled_t, "mql"),
               ("sql", is_sql, sql_t, "sal"), ("opportunity", is_opp, opp_t, "sql"), ("customer", is_cust, cust_t, "opportunity")]
    final = np.full(contacts, "lead", dtype=object)
    final_t = created.copy()
    for stage, mask, times, _ in stages[1:]:
        final[mask] = stage
        final_t[mask] = times[mask]
    titles = rng.choice(TITLES, contacts)
    created_text = _times(created)
    _bulk_insert(
        Contact,
        {
            "id": cids.tolist(),
            "email": [f"c{i}@bench.test" for i in cids],
            "first_name": ["Bench"] * contacts,
            "last_name": [str(i) for i in cids],
            "job_title": titles.tolist(),
            "account_id": [int(a) or None for a in account.tolist()],
            "lifecycle_stage": final.tolist(),
            "stage_changed_at": _times(final_t),
            "first_touch_campaign_id": [int(c) or None for c in first_campaign.tolist()],
            "first_touch_channel": source.tolist(),
            "created_at": created_text,
            "updated_at": created_text,
        },
    )
    del created_text
    change_contact, change_from, change_to, change_time = [], [], [], []
    for stage, mask, times, previous in stages:
        change_contact.append(cids[mask])
        change_to.append(np.full(int(mask.sum()), stage, dtype=object))
        change_from.append(np.full(int(mask.sum()), previous, dtype=object))
        change_time.append(times[mask])
    n_changes = int(sum(len(c) for c in change_contact))
    change_times = np.concatenate(change_time)
    _bulk_insert(
        StageChange,
        {
            "contact_id": np.concatenate(change_contact).tolist(),
            "from_stage": np.concatenate(change_from).tolist(),
            "to_stage": np.concatenate(change_to).tolist(),
            "changed_at": _times(change_times),
            "reason": ["bench"] * n_changes,
            "source": ["system"] * n_changes,
        },
    )
    if stdout:
        stdout.write(f"  {contacts:,} contacts, {n_changes:,} stage changes")

    # opportunities
    opp_contacts = cids[is_opp]
    n_opps = len(opp_contacts)
    won = is_cust[is_opp]
    lost = ~won & (rng.random(n_opps) < 0.45)
    closed = np.where(won, cust_t[is_opp], np.where(lost, later(opp_t[is_opp], 20), 0))
    lost &= closed < t_end
    orphan = rng.random(n_opps) < 0.03
    opp_account = account[is_opp]
    _bulk_insert(
        Opportunity,
        {
            "name": [f"Deal {i}" for i in range(n_opps)],
            "account_id": [int(a) or None for a in opp_account.tolist()],
            "primary_contact_id": [None if o else int(c) for o, c in zip(orphan.tolist(), opp_contacts.tolist())],
            "amount": np.round(rng.uniform(1000, 100000, n_opps), 2).tolist(),
            "currency": np.where(rng.random(n_opps) < 0.03, "EUR", "USD").tolist(),
            "stage": np.where(won, "won", np.where(lost, "lost", "proposal")).tolist(),
            "closed_at": [t if (w or l) else None for t, w, l in zip(_times(np.maximum(closed, t_start)), won, lost)],
            "created_at": _times(opp_t[is_opp]),
            "updated_at": _times(opp_t[is_opp]),
        },
    )
    if stdout:
        stdout.write(f"  {n_opps:,} opportunities")

    # touchpoints, in chunks to bound memory
    total = contacts * TOUCHES_PER_CONTACT
    chunk = 500_000
    for offset in range(0, total, chunk):
        size = min(chunk, total - offset)
        who = rng.integers(1, contacts + 1, size)
        base = created[who - 1]
        when = np.minimum(base + rng.integers(-60 * 86400, 120 * 86400, size), t_end - 60)
        campaign = np.where(rng.random(size) < 0.7, rng.integers(1, CAMPAIGNS + 1, size), 0)
        channel = np.where(campaign > 0, channel_of_campaign[np.maximum(campaign - 1, 0)], rng.choice(CHANNELS, size))
        kind = rng.choice(KINDS, size)
        team = np.where(np.isin(kind, ["call", "meeting"]), "sales", "marketing")
        stamp = _times(when)
        _bulk_insert(
            Touchpoint,
            {
                "contact_id": who.tolist(),
                "campaign_id": [int(c) or None for c in campaign.tolist()],
                "kind": kind.tolist(),
                "channel": channel.tolist(),
                "team": team.tolist(),
                "occurred_at": stamp,
                "created_at": stamp,
            },
        )
        if stdout:
            stdout.write(f"  touchpoints {offset + size:,}/{total:,}")
    _reset_sequences(Campaign, Account, Contact)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size=-2000")  # back to the default for the measurements
            cursor.execute("PRAGMA synchronous=NORMAL")
    return {"contacts": contacts, "touchpoints": total, "opportunities": n_opps, "stage_changes": n_changes}


# -- measurement --------------------------------------------------------------------------
def _warm_ms(function, repeats: int = REPEATS) -> float:
    function()  # warm
    samples = []
    for _ in range(repeats):
        start = perf_counter()
        function()
        samples.append((perf_counter() - start) * 1000)
    return statistics.median(samples)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _measure(vendor: str, *, contacts: int, stdout) -> list[Figure]:
    from accord.reports import attribution as attr
    from accord.reports import queries
    from accord.reports.data import KeySpace, read_record, read_touches
    from accord.reports.services import METRICS, conversion_paths, snapshots_refresh

    now = datetime.now(dt_timezone.utc)
    label = "SQLite" if vendor == "sqlite" else "PostgreSQL"
    stdout.write(f"[{label}] generating {contacts:,} contacts and {contacts * TOUCHES_PER_CONTACT:,} touchpoints")
    start = perf_counter()
    sizes = generate(contacts=contacts, now=now, stdout=stdout)
    generated_s = perf_counter() - start
    stdout.write(f"[{label}] generated in {generated_s:.1f}s; refreshing snapshots")
    start = perf_counter()
    run = snapshots_refresh(stdout=stdout)
    refresh_s = perf_counter() - start

    def count_touchpoints():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM campaigns_touchpoint")
            return cursor.fetchone()[0]

    baseline = _warm_ms(count_touchpoints)
    today = now.date()
    this_month = queries.period_from_params({"period": "this_month"}, today=today)
    last_12 = queries.period_from_params({"period": "last_12_months"}, today=today)
    panels = {
        "KPI cards (12 months, all segments)": lambda: queries.dashboard_kpis(period=last_12),
        "KPI cards (this month, enterprise)": lambda: queries.dashboard_kpis(period=this_month, segment="enterprise"),
        "ROI table (W-shaped, 12 months)": lambda: queries.roi_table(model="w_shaped", period=last_12),
        "ROI models side by side": lambda: queries.models_side_by_side(period=last_12, metric="revenue"),
        "funnel (by source)": lambda: queries.funnel(dimension="source", value="email"),
        "lead quality (last month, by source)": lambda: queries.lead_quality(
            period=queries.period_from_params({"period": "last_month"}, today=today), by="source"
        ),
        "customer-mix drift (last month)": lambda: queries.customer_mix_drift(
            period=queries.period_from_params({"period": "last_month"}, today=today)
        ),
        "KPI drill-down first page (MQLs, 12 months)": lambda: list(
            queries.kpi_records(kpi="mqls", period=last_12).rows[:50]
        ),
    }
    figures = [
        Figure(f"[{label}] bare COUNT(*) over touchpoints", round(baseline, 2), "ms",
               details={"rows": count_touchpoints()}),
    ]
    for name, function in panels.items():
        ms = _warm_ms(function)
        figures.append(
            Figure(f"[{label}] {name}", round(ms, 2), "ms", PANEL_LIMIT_MS,
                   details={"vs_count_star": round(ms / baseline, 3) if baseline else None})
        )
        stdout.write(f"  {name}: {ms:.1f} ms ({ms / baseline:.2f}× COUNT(*))" if baseline else f"  {name}: {ms:.1f} ms")

    # Attribution: read the paths once, then every model over all of them.
    start = perf_counter()
    touches = read_touches()
    record = read_record()
    keys = KeySpace(record.campaign_ids, record.campaign_channel).keys(touches)
    paths = conversion_paths(record, touches, keys)
    read_s = perf_counter() - start
    path_touches = sum(ps.touch_count for ps, _ in paths.values())
    figures.append(Figure(f"[{label}] read all conversion paths once", round(read_s, 3), "s",
                          details={"path_touches": path_touches, "touchpoints": len(touches.time)}))
    for model in attr.MODELS:
        start = perf_counter()
        for metric in METRICS:
            ps, bucket = paths[metric]
            attr.credit_by_key(ps, attr.model_weights(ps, model), bucket=bucket)
        took = perf_counter() - start
        figures.append(Figure(f"[{label}] {model} over all paths vs reading them", round(took / read_s, 3), "x",
                              details={"seconds": round(took, 3), "read_seconds": round(read_s, 3)}))
        stdout.write(f"  {model}: {took:.2f}s ({took / read_s:.2f}× path read)")
    figures.append(Figure(f"[{label}] full snapshot refresh", round(refresh_s, 1), "s",
                          details={"timings": run.timings, "generate_seconds": round(generated_s, 1), **sizes}))
    del touches, record, paths
    return figures


@benchmark("reports")
def run(*, stdout, size: int | None = None, database_url: str = "", seconds=None) -> list[Figure]:
    contacts = size or DEFAULT_CONTACTS
    figures: list[Figure] = []
    # ACCORD_BENCH_ENGINES=postgresql runs only the PostgreSQL half (e.g. in parallel with
    # a SQLite-only run); the default is both, SQLite first.
    engines = os.environ.get("ACCORD_BENCH_ENGINES", "sqlite,postgresql").split(",")
    targets = [""] if "sqlite" in engines else []
    if "postgresql" in engines and database_url.startswith(("postgres://", "postgresql://")):
        targets.append(database_url)
    for url in targets:
        with scratch_database(url, name="bench_reports") as vendor:
            figures += _measure(vendor, contacts=contacts, stdout=stdout)
    figures.append(Figure("peak memory (whole run)", round(_peak_mb(), 1), "MB"))
    return figures
