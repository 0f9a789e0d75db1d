"""Full-text search over articles, one interface over two engines.

SQLite: an FTS5 table ``knowledge_fts`` (porter stemming), ranked by bm25.
PostgreSQL: a stored ``tsvector`` column (``to_tsvector('english', …)``) with a GIN index,
ranked by ts_rank.
Both are created by migration 0002 and kept current by ``search_documents_store``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection

_WORD = re.compile(r"[\w][\w'-]*", re.UNICODE)
MAX_QUERY_WORDS = 12
PG_VECTOR_OF_ROW = "to_tsvector('english', title || ' ' || document)"


@dataclass(frozen=True)
class RawHit:
    article_id: int
    rank: float
    snippet: str


def query_words(query: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(query or "")][:MAX_QUERY_WORDS]


def search_ids(query: str, *, limit: int = 50) -> list[RawHit]:
    """Best matches first. Every word must match (the last one as a prefix, for search-as-you-type)."""
    words = query_words(query)
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _search_postgresql(words, limit)
    return _search_sqlite(words, limit)


def _search_sqlite(words: list[str], limit: int) -> list[RawHit]:
    # Each word quoted, so FTS5 operators typed by a user (NEAR, AND, *, ") are just text.
    terms = [f'"{word.replace(chr(34), "")}"' for word in words]
    terms[-1] += "*"
    match = " ".join(terms)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(knowledge_fts, 5.0, 1.0), snippet(knowledge_fts, 1, '[[', ']]', ' … ', 18) "
            "FROM knowledge_fts WHERE knowledge_fts MATCH %s ORDER BY bm25(knowledge_fts, 5.0, 1.0) LIMIT %s",
            [match, limit],
        )
        return [RawHit(row[0], -row[1], row[2]) for row in cursor.fetchall()]


def _search_postgresql(words: list[str], limit: int) -> list[RawHit]:
    # to_tsquery with each word as a lexeme (non-word characters were dropped above) and a
    # prefix match on the last one.
    lexemes = [re.sub(r"[^\w]", "", word) for word in words]
    lexemes = [lexeme for lexeme in lexemes if lexeme]
    if not lexemes:
        return []
    tsquery = " & ".join(lexemes[:-1] + [lexemes[-1] + ":*"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT article_id, rank, ts_headline('english', document, q, "
            "'StartSel=[[, StopSel=]], MaxWords=30, MinWords=10') FROM ("
            "SELECT article_id, document, q, ts_rank(search_vector, q) AS rank "
            "FROM knowledge_articlesearchdocument, to_tsquery('english', %s) q WHERE search_vector @@ q "
            "ORDER BY rank DESC, article_id LIMIT %s) best ORDER BY rank DESC, article_id",
            [tsquery, limit],
        )
        return [RawHit(row[0], float(row[1]), row[2]) for row in cursor.fetchall()]


def search_documents_store(rows: list[tuple[int, str, str]]) -> None:
    """Write (article_id, title, document) into the index; replaces what was there."""
    from accord.knowledge.models import ArticleSearchDocument

    if not rows:
        return
    ids = [row[0] for row in rows]
    ArticleSearchDocument.objects.filter(article_id__in=ids).delete()
    ArticleSearchDocument.objects.bulk_create(
        [ArticleSearchDocument(article_id=aid, title=title, document=document) for aid, title, document in rows],
        batch_size=1000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE knowledge_articlesearchdocument SET search_vector = {PG_VECTOR_OF_ROW} WHERE article_id = ANY(%s)",
                [ids],
            )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                cursor.execute(
                    f"DELETE FROM knowledge_fts WHERE rowid IN ({', '.join(['%s'] * len(chunk))})", chunk
                )
            cursor.executemany("INSERT INTO knowledge_fts (rowid, title, document) VALUES (%s, %s, %s)", rows)


def search_documents_remove(article_ids: list[int]) -> None:
    from accord.knowledge.models import ArticleSearchDocument

    ArticleSearchDocument.objects.filter(article_id__in=article_ids).delete()
    if connection.vendor == "sqlite" and article_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM knowledge_fts WHERE rowid IN ({', '.join(['%s'] * len(article_ids))})", article_ids
            )
