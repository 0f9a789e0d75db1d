"""Writes on the knowledge base: articles and their versions, labels, files, followers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction

from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.knowledge.diff import diff_summary
from accord.knowledge.files import check_upload
from accord.knowledge.models import (
    Article,
    ArticleFile,
    ArticleFollower,
    ArticleKind,
    ArticleLabel,
    ArticleStatus,
    ArticleVersion,
    Audience,
    LabelKind,
)
from accord.knowledge.personas import PERSONAS
from accord.knowledge.search import search_documents_remove, search_documents_store

MAX_BODY = 200_000


@dataclass
class ArticleInput:
    title: str
    body: str = ""
    kind: str = ArticleKind.OTHER
    audience: str = Audience.BOTH
    tags: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    change_note: str = ""


def _split(values) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    return sorted({str(v).strip().lower() for v in values or () if str(v).strip()})


def _clean(data: ArticleInput) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = "is required"
    elif len(title) > 200:
        errors["title"] = "is longer than 200 characters"
    if len(data.body or "") > MAX_BODY:
        errors["body"] = f"is longer than {MAX_BODY:,} characters"
    if data.kind not in ArticleKind.values:
        errors["kind"] = f"must be one of {', '.join(ArticleKind.values)}"
    if data.audience not in Audience.values:
        errors["audience"] = f"must be one of {', '.join(Audience.values)}"
    labels = {LabelKind.TAG: _split(data.tags), LabelKind.PERSONA: _split(data.personas), LabelKind.STAGE: _split(data.stages)}
    bad_personas = [p for p in labels[LabelKind.PERSONA] if p not in PERSONAS]
    if bad_personas:
        errors["personas"] = f"'{bad_personas[0][:40]}' is not a persona; use one of {', '.join(PERSONAS)}"
    bad_stages = [s for s in labels[LabelKind.STAGE] if s not in Stage.values]
    if bad_stages:
        errors["stages"] = f"'{bad_stages[0][:40]}' is not a lifecycle stage; use one of {', '.join(Stage.values)}"
    long_tags = [t for t in labels[LabelKind.TAG] if len(t) > 60]
    if long_tags or len(labels[LabelKind.TAG]) > 30:
        errors["tags"] = "use at most 30 tags of at most 60 characters"
    if errors:
        raise ValidationFailed(errors)
    fields = {"title": title, "body": data.body or "", "kind": data.kind, "audience": data.audience}
    return fields, labels


def article_create(*, data: ArticleInput, actor) -> Article:
    fields, labels = _clean(data)
    moment = now()
    with transaction.atomic():
        article = Article.objects.create(
            **fields, owner=actor, team=actor.team, status=ArticleStatus.DRAFT, version=1, created_at=moment, updated_at=moment
        )
        ArticleVersion.objects.create(
            article=article, number=1, title=article.title, body=article.body,
            change_note=(data.change_note or "First version")[:300], author=actor, created_at=moment,
        )
        _set_labels(article, labels)
        ArticleFollower.objects.create(article=article, user=actor, since=moment)
        _index([article], labels)
    return article


def article_update(*, article: Article, data: ArticleInput, actor, expected_version: int | None = None) -> Article:
    """Save a new version. Followers of a published article are told what changed."""
    _check_can_edit(article, actor)
    fields, labels = _clean(data)
    moment = now()
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ValidationFailed.single(
                "version", f"someone saved version {locked.version} while you were editing version {expected_version}"
            )
        previous = ArticleVersion.objects.get(article=locked, number=locked.version)
        changed = previous.title != fields["title"] or previous.body != fields["body"]
        for name, value in fields.items():
            setattr(locked, name, value)
        if changed:
            locked.version += 1
            ArticleVersion.objects.create(
                article=locked, number=locked.version, title=locked.title, body=locked.body,
                change_note=(data.change_note or "")[:300], author=actor, created_at=moment,
            )
        locked.updated_at = moment
        locked.save()
        _set_labels(locked, labels)
        _index([locked], labels)
        if changed and locked.status == ArticleStatus.PUBLISHED:
            _tell_followers(locked, previous, actor, data.change_note)
    return locked


def article_publish(*, article: Article, actor) -> Article:
    _check_can_edit(article, actor)
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.PUBLISHED, updated_at=now())
    article.refresh_from_db()
    return article


def article_archive(*, article: Article, actor) -> Article:
    _check_can_edit(article, actor)
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.ARCHIVED, updated_at=now())
    article.refresh_from_db()
    return article


def _check_can_edit(article: Article, actor) -> None:
    from accord.core.permissions import Perm, has_perm

    if not has_perm(actor, Perm.EDIT_KNOWLEDGE):
        raise ValidationFailed.single("article", "your role may not edit the knowledge base")
    if article.status == ArticleStatus.DRAFT and article.owner_id != actor.pk and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("article", "only the owner edits a draft")


def _set_labels(article: Article, labels: dict[str, list[str]]) -> None:
    ArticleLabel.objects.filter(article=article).delete()
    ArticleLabel.objects.bulk_create(
        [ArticleLabel(article=article, kind=kind, value=value) for kind, values in labels.items() for value in values]
    )


def _index(articles: list[Article], labels: dict[str, list[str]]) -> None:
    rows = []
    for article in articles:
        extra = " ".join(labels[LabelKind.TAG] + labels[LabelKind.PERSONA])
        rows.append((article.pk, article.title, f"{extra}\n{article.get_kind_display()}\n{article.body}"))
    search_documents_store(rows)


def _tell_followers(article: Article, previous: ArticleVersion, actor, note: str) -> None:
    from accord.notifications.services import notify

    followers = [
        f.user for f in ArticleFollower.objects.filter(article=article).exclude(user=actor).select_related("user")
    ]
    if not followers:
        return
    summary = diff_summary(previous.body, article.body)
    body = f"{actor.display_name} changed “{article.title}” (version {article.version})"
    if note:
        body += f": {note}"
    body += f"\n{summary}"
    notify(
        recipients=followers, kind="knowledge.changed", title=f"Updated: {article.title}", body=body,
        url=f"/knowledge/{article.pk}/diff/{previous.number}/{article.version}/",
    )


def article_follow(*, article: Article, user) -> None:
    ArticleFollower.objects.get_or_create(article=article, user=user, defaults={"since": now()})


def article_unfollow(*, article: Article, user) -> None:
    ArticleFollower.objects.filter(article=article, user=user).delete()


def article_file_add(*, article: Article, name: str, content: bytes, actor) -> ArticleFile:
    _check_can_edit(article, actor)
    content_type = check_upload(name=name, content=content)
    moment = now()
    stored = ArticleFile(
        article=article, original_name=name[:200], content_type=content_type, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor, uploaded_at=moment,
    )
    # The stored name is ours, not the uploader's: no path tricks, no clashing names.
    suffix = name.rsplit(".", 1)[-1].lower()
    stored.file.save(f"{stored.sha256[:16]}.{suffix}", ContentFile(content), save=False)
    stored.save()
    Article.objects.filter(pk=article.pk).update(updated_at=moment)
    return stored


def article_delete(*, article: Article, actor) -> None:
    _check_can_edit(article, actor)
    with transaction.atomic():
        search_documents_remove([article.pk])
        article.delete()
