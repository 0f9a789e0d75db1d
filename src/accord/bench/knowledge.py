"""accord bench knowledge: full-text search over 50,000 articles against a bare indexed lookup.

Both measured in the same run on a scratch database: the median of many searches (two-word
queries, stemmed, last word as prefix, through ``article_search`` with its access rule) and
the median of fetching one article by primary key.
"""

from __future__ import annotations

import random
import statistics
import time

from accord.bench import Figure, benchmark
from accord.bench.scratch import scratch_database

DOMAIN_WORDS = (
    "pricing discount battlecard competitor onboarding security compliance integration webinar fintech "
    "healthcare retail procurement renewal upsell churn roadmap migration analytics dashboard workflow "
    "automation support enterprise startup partner channel objection negotiation contract invoice audit"
).split()


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set(DOMAIN_WORDS)
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 10))))
    return sorted(words)


@benchmark("knowledge")
def knowledge_bench(*, stdout, size=None, database_url="", **_) -> list[Figure]:
    count = size or 50_000
    with scratch_database(database_url) as vendor:
        return _run(count, vendor, stdout)


def _run(count: int, vendor: str, stdout) -> list[Figure]:
    from accord.core.clock import now
    from accord.core.models import Role, Team, User
    from accord.knowledge.models import Article, ArticleStatus
    from accord.knowledge.queries import article_search
    from accord.knowledge.search import search_documents_store

    rng = random.Random(11)
    words = _vocabulary(rng)
    author = User.objects.create_user(username="bench-author", password=None, role=Role.MARKETING, team=Team.MARKETING)
    moment = now()
    started = time.perf_counter()
    for start in range(0, count, 5000):
        batch = []
        for _ in range(min(5000, count - start)):
            title = " ".join(rng.choice(words) for _ in range(5)).capitalize()
            body = "\n".join(" ".join(rng.choice(words) for _ in range(14)) for _ in range(12))
            batch.append(Article(title=title, body=body, owner=author, team=Team.MARKETING,
                                 status=ArticleStatus.PUBLISHED, created_at=moment, updated_at=moment))
        created = Article.objects.bulk_create(batch, batch_size=1000)
        if not created or created[0].pk is None:
            created = list(Article.objects.order_by("-id")[: len(batch)])[::-1]
        search_documents_store([(a.pk, a.title, a.body) for a in created])
    if vendor == "postgresql":
        from django.db import connection

        # A production database has statistics (autovacuum); a freshly loaded one must be told.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_articlesearchdocument")
    stdout.write(f"{count:,} articles indexed on {vendor} in {time.perf_counter() - started:.1f} s")
    ids = list(Article.objects.values_list("id", flat=True))
    queries = [f"{rng.choice(DOMAIN_WORDS)} {rng.choice(words)[:5]}" for _ in range(60)]
    search_times, hits = [], 0
    for query in queries:
        started = time.perf_counter()
        results = article_search(user=author, query=query)
        search_times.append(time.perf_counter() - started)
        hits += len(results)
    lookup_times = []
    for article_id in rng.sample(ids, 200):
        started = time.perf_counter()
        Article.objects.get(pk=article_id)
        lookup_times.append(time.perf_counter() - started)
    search_ms, lookup_ms = statistics.median(search_times) * 1000, statistics.median(lookup_times) * 1000
    stdout.write(f"median search {search_ms:.2f} ms ({hits / len(queries):.1f} results per query); median lookup {lookup_ms:.3f} ms")
    return [
        Figure(f"median full-text search, {count:,} articles ({vendor})", search_ms, "ms", None,
               details={"queries": len(queries), "p90_ms": sorted(search_times)[int(len(search_times) * 0.9)] * 1000}),
        Figure(f"search vs indexed lookup of one article ({vendor})", search_ms / lookup_ms, "x", None,
               details={"lookup_ms": lookup_ms}),
    ]
