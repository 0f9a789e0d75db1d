"""accord bench scoring: a whole-base rescore against one plain SQL aggregate, same data, same run.

Data: 100,000 contacts (``--size``) at 5,000 accounts, 10 touchpoints each on average
(1,000,000) over the past year; a live model of 20 rules (8 fit, 3 negative, 9 engagement with
caps and half-lives). Figures:

* full rescore ÷ baseline, where the baseline is ``SELECT contact_id, kind, COUNT(*) FROM
  touchpoints GROUP BY contact_id, kind`` (one plain aggregate over the same touchpoints);
  the rescore writes every score row, changed contacts, history points and MQL moves;
* peak memory of the rescore (tracemalloc, in a second run; and the process RSS high-water mark);
* the median time of an incremental rescore after one new touchpoint.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.db import connection, transaction

from accord.bench import Figure, benchmark
from accord.bench.scratch import scratch_database

TOUCHES_PER_CONTACT = 10
INCREMENTAL_RUNS = 50


INDUSTRIES = ["software", "finance", "retail", "health", "education", "manufacturing", "media", "logistics"]
COUNTRIES = ["US", "DE", "GB", "FR", "NL", "AT", "CH", "ES", "IT", "CA"]
SENIORITIES = ["", "entry", "senior", "manager", "director", "vp", "c_level", "owner"]
TITLES = ["Engineer", "VP Operations", "Head of Marketing", "CTO", "Student", "Analyst", "Director of Sales", "Chief Revenue Officer"]
KINDS = ["page_visit", "page_visit", "page_visit", "email_opened", "email_clicked", "form_submission", "webinar", "ad_click", "meeting", "call"]
CHANNELS = ["organic_search", "paid_search", "paid_social", "email", "webinar", "direct"]
URLS = ["https://acme.test/", "https://acme.test/pricing", "https://acme.test/blog/post", "https://acme.test/docs/api", "https://acme.test/careers"]


def _generate(size: int, rng: np.random.Generator, stdout) -> dict:
    from accord.campaigns.models import Campaign, Touchpoint
    from accord.core.clock import now
    from accord.crm.models import Account, Contact

    moment = now()
    campaigns = [
        Campaign.objects.create(name=f"Campaign {i}", channel=CHANNELS[i % len(CHANNELS)], created_at=moment, updated_at=moment)
        for i in range(10)
    ]
    accounts = max(1, size // 20)
    with transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(
                    name=f"Company {i}",
                    domain=f"company{i}.test",
                    industry=INDUSTRIES[i % len(INDUSTRIES)],
                    employee_count=int(rng.integers(1, 5000)),
                    annual_revenue=int(rng.integers(10_000, 50_000_000)),
                    country=COUNTRIES[i % len(COUNTRIES)],
                    created_at=moment,
                    updated_at=moment,
                )
                for i in range(accounts)
            ],
            batch_size=2000,
        )
    account_ids = list(Account.objects.order_by("id").values_list("id", flat=True))
    contact_table, touch_table = Contact._meta.db_table, Touchpoint._meta.db_table
    stamp = moment.isoformat(sep=" ") if connection.vendor == "sqlite" else moment
    chunk = 20_000
    for start in range(0, size, chunk):
        n = min(chunk, size - start)
        rows = []
        for i in range(start, start + n):
            free = i % 7 == 0
            rows.append(
                (
                    f"person{i}@{'gmail.com' if free else f'company{i % accounts}.test'}",
                    f"First{i}",
                    f"Last{i}",
                    TITLES[i % len(TITLES)],
                    SENIORITIES[int(rng.integers(0, len(SENIORITIES)))],
                    account_ids[i % accounts],
                    "lead",
                    "",
                    i % 50 == 0,
                    stamp,
                    stamp,
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {contact_table} (email, first_name, last_name, job_title, seniority, account_id, lifecycle_stage,"
                " country, do_not_contact, created_at, updated_at, phone, street, city, postcode, state, external_id, score, grade,"
                " first_touch_channel, latest_touch_channel)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', '', '', '', '', 0, '', '', '')",
                rows,
            )
    contact_ids = np.array(Contact.objects.order_by("id").values_list("id", flat=True))
    total = size * TOUCHES_PER_CONTACT
    campaign_ids = [c.pk for c in campaigns]
    chunk = 100_000
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        who = contact_ids[rng.integers(0, len(contact_ids), n)]
        ages = rng.exponential(90.0, n).clip(0, 365)
        kind = rng.integers(0, len(KINDS), n)
        channel = rng.integers(0, len(CHANNELS), n)
        url = rng.integers(0, len(URLS), n)
        camp = rng.integers(0, len(campaign_ids) * 3, n)
        kinds = np.array(KINDS)[kind]
        urls = np.where(kinds == "page_visit", np.array(URLS)[url], "")
        campaign_of = np.array([*campaign_ids, *([None] * (len(campaign_ids) * 2))], dtype=object)[camp]
        base = np.datetime64(moment.replace(tzinfo=None), "us")
        times = base - (ages * 86_400_000_000).astype("timedelta64[us]")
        if connection.vendor == "sqlite":
            occurred = np.char.replace(np.datetime_as_string(times, unit="us"), "T", " ").tolist()
        else:
            occurred = [t.replace(tzinfo=moment.tzinfo) for t in times.astype(object)]
        rows = list(
            zip(
                who.tolist(),
                campaign_of.tolist(),
                kinds.tolist(),
                np.array(CHANNELS)[channel].tolist(),
                ["marketing"] * n,
                occurred,
                urls.tolist(),
                [stamp] * n,
            )
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {touch_table} (contact_id, campaign_id, kind, channel, team, occurred_at, url, created_at,"
                " utm_source, utm_medium, utm_campaign, subject, body, metadata, dedupe_key)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', '', '', '', '', '{}', '')",
                rows,
            )
        stdout.write(f"  touchpoints: {start + n:,}/{total:,}\r")
    stdout.write("\n")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"contacts": size, "touchpoints": total, "accounts": accounts, "campaigns": campaign_ids}


def _rules(campaign_ids: list[int]) -> list[dict]:
    def fit(label, field, operator, value, points, kind="fit"):
        return {"kind": kind, "label": label, "field": field, "operator": operator, "value": value, "points": points}

    def engage(label, value, points, cap, half_life):
        return {"kind": "engagement", "label": label, "value": value, "points": points, "cap": cap, "half_life_days": half_life}

    return [
        fit("Decision makers", "seniority", "in", ["director", "vp", "c_level", "owner"], 15),
        fit("Ops and revenue titles", "job_title", "contains", ["operations", "revenue", "sales"], 8),
        fit("Chiefs and VPs", "job_title", "matches", r"^(chief|vp)\b|\bcto\b", 10),
        fit("Target industries", "industry", "in", ["software", "finance"], 10),
        fit("Mid-market", "employee_count", "between", [200, 2000], 10),
        fit("Revenue over 5M", "annual_revenue", "between", [5_000_000, None], 5),
        fit("Core countries", "country", "in", ["US", "DE", "GB"], 5),
        fit("Business address", "email_domain_type", "is", "business", 5),
        fit("Free mail", "email_domain_type", "is", "free", -10, "negative"),
        fit("Students", "job_title", "contains", ["student"], -30, "negative"),
        fit("Unsubscribed", "do_not_contact", "is", True, -50, "negative"),
        engage("Pricing page", {"kinds": ["page_visit"], "url": "*/pricing*"}, 8, 40, 30),
        engage("Docs", {"kinds": ["page_visit"], "url": "*/docs/*"}, 3, 15, 30),
        engage("Any page", {"kinds": ["page_visit"]}, 1, 10, 14),
        engage("Email clicks", {"kinds": ["email_clicked"]}, 3, 15, 30),
        engage("Email opens", {"kinds": ["email_opened"]}, 1, 5, 14),
        engage("Forms", {"kinds": ["form_submission"]}, 10, 30, 60),
        engage("Webinars", {"kinds": ["webinar"]}, 15, 30, 90),
        engage("Paid social", {"channels": ["paid_social"]}, 2, 10, 30),
        engage("Flagship campaign", {"campaigns": campaign_ids[:2]}, 5, 20, 60),
    ]


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@benchmark("scoring")
def run(*, stdout, size=None, database_url="", **_):
    from accord.campaigns.models import Touchpoint
    from accord.core.clock import now
    from accord.core.models import User
    from accord.scoring.models import ModelStatus, ScoringApproval, ScoringModel
    from accord.scoring.services import _activate, scores_rescore, scoring_model_create

    size = size or 100_000
    rng = np.random.default_rng(7)
    with scratch_database(database_url, name="bench_scoring"):
        stdout.write(f"Generating {size:,} contacts and {size * TOUCHES_PER_CONTACT:,} touchpoints on {connection.vendor}…")
        t0 = time.perf_counter()
        data = _generate(size, rng, stdout)
        stdout.write(f"  generated in {time.perf_counter() - t0:.1f}s")

        admin = User.objects.create(username="bench", role="admin", team="marketing")
        sales = User.objects.create(username="bench-sales", role="sales", team="sales")
        model = scoring_model_create(
            actor=admin, name="Bench model", rules=_rules(data["campaigns"]), grade_bands={"A": 40, "B": 25, "C": 10},
            mql_min_grade="B", mql_min_score=85,
        )
        ScoringModel.objects.filter(pk=model.pk).update(status=ModelStatus.PROPOSED)
        moment = now()
        ScoringApproval.objects.create(model=model, user=admin, side="marketing", approved_at=moment)
        ScoringApproval.objects.create(model=model, user=sales, side="sales", approved_at=moment)
        model.refresh_from_db()
        with transaction.atomic():
            _activate(model, admin)
        rules = model.rules.count()

        table = Touchpoint._meta.db_table
        baseline_sql = f"SELECT contact_id, kind, COUNT(*) FROM {table} GROUP BY contact_id, kind"

        def baseline() -> float:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(baseline_sql)
                rows = 0
                while batch := cursor.fetchmany(10_000):
                    rows += len(batch)
            return time.perf_counter() - started

        baseline()  # warm the cache the same way for both
        baselines = [baseline(), baseline()]

        rss_before = _rss_kb()
        started = time.perf_counter()
        summary = scores_rescore(model=model, moment=moment)
        full = time.perf_counter() - started
        rss_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        baselines.append(baseline())
        base = statistics.median(baselines)
        stdout.write(
            f"  full rescore {full:.2f}s: {summary.scored:,} scored, {summary.changed:,} changed, "
            f"{len(summary.moved_to_mql):,} moved to MQL; baseline {base:.3f}s (runs {', '.join(f'{b:.3f}' for b in baselines)})"
        )

        # The daily decay run: every score moves a little, nobody newly crosses the line.
        started = time.perf_counter()
        daily_summary = scores_rescore(model=model, moment=moment + timedelta(days=1))
        daily = time.perf_counter() - started
        # An aggregate the index alone answers (no table rows read), for reference only.
        count_sql = f"SELECT contact_id, COUNT(*) FROM {table} GROUP BY contact_id"
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(count_sql)
            while cursor.fetchmany(10_000):
                pass
        count_only = time.perf_counter() - started
        stdout.write(f"  daily rescore {daily:.2f}s ({daily_summary.changed:,} changed); index-only count {count_only:.3f}s")

        # Peak Python memory of the same work, in a further run two days on (tracemalloc slows it).
        tracemalloc.start()
        again = scores_rescore(model=model, moment=moment + timedelta(days=2))
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        contacts = list(np.asarray(rng.integers(1, size, INCREMENTAL_RUNS)))
        from accord.crm.models import Contact

        ids = list(Contact.objects.order_by("id").values_list("id", flat=True)[:1])
        first_id = ids[0]
        timings = []
        for offset in contacts:
            contact_id = first_id + int(offset)
            at = now()
            Touchpoint.objects.create(contact_id=contact_id, kind="form_submission", team="marketing", occurred_at=at, created_at=at)
            started = time.perf_counter()
            scores_rescore(contact_ids=[contact_id], moment=at)
            timings.append(time.perf_counter() - started)
        incremental = statistics.median(timings)
        vendor = connection.vendor

    details = {
        "database": vendor,
        "contacts": data["contacts"],
        "touchpoints": data["touchpoints"],
        "rules": rules,
        "full_rescore_seconds": round(full, 3),
        "baseline_seconds": round(base, 4),
        "baseline_runs": [round(b, 4) for b in baselines],
        "baseline_sql": baseline_sql,
        "changed": summary.changed,
        "moved_to_mql": len(summary.moved_to_mql),
        "mql_moves_seconds": round(summary.seconds_moving, 3),
        "scoring_seconds": round(summary.seconds_scoring, 3),
        "writing_seconds_incl_moves": round(summary.seconds_writing, 3),
        "second_run_changed": again.changed,
    }
    return [
        Figure(f"full rescore ({size:,} contacts, {data['touchpoints']:,} touchpoints, {rules} rules) vs SQL aggregate", full / base, "x", 5, details=details),
        Figure(
            "daily (decay) full rescore vs the same SQL aggregate",
            daily / base,
            "x",
            details={
                "seconds": round(daily, 3),
                "changed": daily_summary.changed,
                "moved_to_mql": len(daily_summary.moved_to_mql),
                "scoring_seconds": round(daily_summary.seconds_scoring, 3),
                "writing_seconds": round(daily_summary.seconds_writing, 3),
            },
        ),
        Figure(
            "full rescore vs index-only COUNT(*) GROUP BY contact_id (reference)",
            full / count_only,
            "x",
            details={"count_seconds": round(count_only, 4), "sql": count_sql},
        ),
        Figure("full rescore peak Python memory (tracemalloc)", traced_peak / 2**20, "MiB", details={"peak_bytes": traced_peak}),
        Figure(
            "full rescore process RSS high-water mark",
            rss_peak_kb / 1024,
            "MiB",
            details={"rss_before_rescore_mib": round(rss_before / 1024, 1), "note": "includes data generation"},
        ),
        Figure(
            "incremental rescore after one touchpoint (median)",
            incremental * 1000,
            "ms",
            details={"runs": len(timings), "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1] * 1000, 2)},
        ),
    ]
