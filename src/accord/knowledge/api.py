"""Knowledge base API: search, read, create and update articles (each save a new version)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router, Schema

from accord.core.permissions import Perm, require_perm
from accord.knowledge import queries
from accord.knowledge.services import ArticleInput, article_create, article_update

router = Router(tags=["knowledge"])


class ArticleIn(Schema):
    title: str = Field(max_length=200)
    body: str = Field("", max_length=200_000)
    kind: str = "other"
    audience: str = "both"
    tags: list[str] = Field(default_factory=list, max_length=30)
    personas: list[str] = Field(default_factory=list, max_length=10)
    stages: list[str] = Field(default_factory=list, max_length=10)
    change_note: str = Field("", max_length=300)
    expected_version: int | None = None


class ArticleOut(Schema):
    id: int
    title: str
    kind: str
    audience: str
    status: str
    team: str
    owner_id: int | None
    version: int
    body: str
    labels: dict[str, list[str]]
    updated_at: datetime


class HitOut(Schema):
    id: int
    title: str
    kind: str
    snippet: str
    rank: float


def _out(article) -> dict:
    return {
        "id": article.pk, "title": article.title, "kind": article.kind, "audience": article.audience,
        "status": article.status, "team": article.team, "owner_id": article.owner_id, "version": article.version,
        "body": article.body, "labels": queries.article_labels(article), "updated_at": article.updated_at,
    }


def _input(payload: ArticleIn) -> ArticleInput:
    return ArticleInput(
        title=payload.title, body=payload.body, kind=payload.kind, audience=payload.audience, tags=tuple(payload.tags),
        personas=tuple(payload.personas), stages=tuple(payload.stages), change_note=payload.change_note,
    )


@router.get("/search", response=list[HitOut])
def knowledge_search(request, q: str = Query(..., max_length=200), limit: int = Query(20, ge=1, le=100)):
    """Full-text search (stemmed; the last word matches as a prefix). Drafts of others never appear."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    return [
        {"id": hit.article.pk, "title": hit.article.title, "kind": hit.article.kind, "snippet": hit.snippet, "rank": hit.rank}
        for hit in queries.article_search(user=request.user, query=q, limit=limit)
    ]


@router.get("/articles/{article_id}", response=ArticleOut)
def knowledge_read(request, article_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return _out(queries.article_for(request.user, article_id))


@router.post("/articles", response={201: ArticleOut})
def knowledge_create(request, payload: ArticleIn):
    require_perm(request.user, Perm.EDIT_KNOWLEDGE)
    return 201, _out(article_create(data=_input(payload), actor=request.user))


@router.put("/articles/{article_id}", response=ArticleOut)
def knowledge_update(request, article_id: int, payload: ArticleIn):
    require_perm(request.user, Perm.EDIT_KNOWLEDGE)
    article = queries.article_for(request.user, article_id)
    return _out(article_update(article=article, data=_input(payload), actor=request.user, expected_version=payload.expected_version))
