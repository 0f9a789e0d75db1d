"""Reads on the knowledge base. ``articles_visible_to`` is the only way to list articles, so a
private draft never leaks into a list, a search or a suggestion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accord.knowledge.models import Article, ArticleLabel, ArticleStatus, ArticleVersion, LabelKind
from accord.knowledge.personas import contact_personas
from accord.knowledge.search import search_ids


def articles_visible_to(user) -> QuerySet[Article]:
    return Article.objects.filter(Q(status__in=(ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED)) | Q(owner=user))


def article_for(user, article_id: int) -> Article:
    article = articles_visible_to(user).select_related("owner").filter(pk=article_id).first()
    if article is None:
        raise Http404("No such article, or it is a draft you cannot read.")
    return article


def article_labels(article: Article) -> dict[str, list[str]]:
    labels = {kind: [] for kind in LabelKind.values}
    for kind, value in ArticleLabel.objects.filter(article=article).values_list("kind", "value"):
        labels[kind].append(value)
    return labels


@dataclass
class SearchResult:
    article: Article
    snippet: str
    rank: float


def article_search(*, user, query: str, limit: int = 20) -> list[SearchResult]:
    hits = search_ids(query, limit=limit * 3)
    if not hits:
        return []
    visible = articles_visible_to(user).exclude(status=ArticleStatus.ARCHIVED).select_related("owner")
    articles = visible.in_bulk([hit.article_id for hit in hits])
    return [
        SearchResult(articles[hit.article_id], hit.snippet, hit.rank) for hit in hits if hit.article_id in articles
    ][:limit]


def articles_listed(*, user, kind: str = "", tag: str = "") -> QuerySet[Article]:
    articles = articles_visible_to(user).exclude(status=ArticleStatus.ARCHIVED).select_related("owner")
    if kind:
        articles = articles.filter(kind=kind)
    if tag:
        articles = articles.filter(labels__kind=LabelKind.TAG, labels__value=tag.lower())
    return articles.annotate(follower_count=Count("followers", distinct=True))


@dataclass
class Suggestion:
    article: Article
    because: str


def articles_for_contact(contact, *, limit: int = 5) -> list[Suggestion]:
    """Published materials that fit the contact's persona and lifecycle stage, best fit first."""
    personas = contact_personas(job_title=contact.job_title, seniority=contact.seniority)
    wanted = Q(kind=LabelKind.STAGE, value=contact.lifecycle_stage)
    if personas:
        wanted |= Q(kind=LabelKind.PERSONA, value__in=personas)
    rows = (
        ArticleLabel.objects.filter(wanted, article__status=ArticleStatus.PUBLISHED)
        .values_list("article_id", "kind", "value")[:500]
    )
    reasons: dict[int, list[str]] = {}
    for article_id, kind, value in rows:
        reasons.setdefault(article_id, []).append(f"{value} {'buyer' if kind == LabelKind.PERSONA else 'stage'}")
    ranked = sorted(reasons, key=lambda aid: (-len(reasons[aid]), -aid))[:limit]
    articles = Article.objects.in_bulk(ranked)
    return [Suggestion(articles[aid], ", ".join(sorted(reasons[aid]))) for aid in ranked if aid in articles]


def knowledge_changes_since(moment: datetime) -> QuerySet[ArticleVersion]:
    """New versions of published articles since a moment (for the joint meeting's agenda)."""
    return (
        ArticleVersion.objects.filter(created_at__gte=moment, article__status=ArticleStatus.PUBLISHED)
        .select_related("article", "author")
        .order_by("-created_at")
    )


def contact_knowledge_panel(contact, user) -> dict:
    return {"suggestions": articles_for_contact(contact)}
