"""Knowledge base pages: list and search, an article with its files and versions, the diff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, has_perm, require_perm
from accord.crm.lifecycle import Stage
from accord.knowledge import queries
from accord.knowledge.diff import version_diff
from accord.knowledge.models import ArticleFile, ArticleFollower, ArticleKind, ArticleVersion, Audience
from accord.knowledge.personas import PERSONAS
from accord.knowledge.rendering import article_html
from accord.knowledge.services import (
    ArticleInput,
    article_archive,
    article_create,
    article_file_add,
    article_follow,
    article_publish,
    article_unfollow,
    article_update,
)


@login_required
def article_list(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    query = request.GET.get("q", "").strip()[:200]
    results = queries.article_search(user=request.user, query=query) if query else None
    page = None
    if results is None:
        listed = queries.articles_listed(user=request.user, kind=request.GET.get("kind", ""), tag=request.GET.get("tag", ""))
        page = Paginator(listed, 25).get_page(request.GET.get("page"))
    return render(
        request, "knowledge/list.html",
        {"query": query, "results": results, "page": page, "kinds": ArticleKind.choices,
         "can_edit": has_perm(request.user, Perm.EDIT_KNOWLEDGE)},
    )


@login_required
def article_detail(request, article_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    article = queries.article_for(request.user, article_id)
    return render(
        request, "knowledge/detail.html",
        {
            "article": article, "html": article_html(article.body), "labels": queries.article_labels(article),
            "files": list(article.files.all()), "versions": list(article.versions.select_related("author")[:20]),
            "following": ArticleFollower.objects.filter(article=article, user=request.user).exists(),
            "can_edit": has_perm(request.user, Perm.EDIT_KNOWLEDGE)
            and (article.status != "draft" or article.owner_id == request.user.pk),
        },
    )


def _input_from(post) -> ArticleInput:
    return ArticleInput(
        title=post.get("title", ""), body=post.get("body", ""), kind=post.get("kind", ArticleKind.OTHER),
        audience=post.get("audience", Audience.BOTH), tags=post.get("tags", ""), personas=post.getlist("personas"),
        stages=post.getlist("stages"), change_note=post.get("change_note", ""),
    )


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, article_id: int | None = None):
    require_perm(request.user, Perm.EDIT_KNOWLEDGE)
    article = queries.article_for(request.user, article_id) if article_id else None
    errors: dict[str, str] = {}
    labels = queries.article_labels(article) if article else {"tag": [], "persona": [], "stage": []}
    values = {
        "title": article.title if article else "", "body": article.body if article else "",
        "kind": article.kind if article else ArticleKind.OTHER, "audience": article.audience if article else Audience.BOTH,
        "tags": ", ".join(labels["tag"]), "personas": labels["persona"], "stages": labels["stage"], "change_note": "",
        "version": article.version if article else 1,
    }
    if request.method == "POST":
        data = _input_from(request.POST)
        try:
            if article is None:
                article = article_create(data=data, actor=request.user)
            else:
                expected = request.POST.get("version", "")
                article = article_update(
                    article=article, data=data, actor=request.user,
                    expected_version=int(expected) if expected.isdigit() else None,
                )
            messages.success(request, "Saved.")
            return redirect("knowledge_article", article_id=article.pk)
        except ValidationFailed as failed:
            errors = failed.errors
            values.update(
                {key: request.POST.get(key, "") for key in ("title", "body", "kind", "audience", "tags", "change_note")}
            )
            values["personas"], values["stages"] = request.POST.getlist("personas"), request.POST.getlist("stages")
    return render(
        request, "knowledge/edit.html",
        {"article": article, "values": values, "errors": errors, "kinds": ArticleKind.choices,
         "audiences": Audience.choices, "personas": PERSONAS, "stages": Stage.choices},
    )


@login_required
@require_POST
def article_action(request, article_id: int, action: str):
    article = queries.article_for(request.user, article_id)
    try:
        if action == "follow":
            article_follow(article=article, user=request.user)
        elif action == "unfollow":
            article_unfollow(article=article, user=request.user)
        elif action == "publish":
            article_publish(article=article, actor=request.user)
        elif action == "archive":
            article_archive(article=article, actor=request.user)
        elif action == "upload":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed.single("file", "choose a file")
            article_file_add(article=article, name=upload.name, content=upload.read(), actor=request.user)
        else:
            raise Http404("No such action.")
    except ValidationFailed as failed:
        messages.error(request, "; ".join(f"{k}: {v}" for k, v in failed.errors.items()))
    return redirect("knowledge_article", article_id=article.pk)


@login_required
def article_diff(request, article_id: int, old: int, new: int):
    article = queries.article_for(request.user, article_id)
    versions = {v.number: v for v in ArticleVersion.objects.filter(article=article, number__in=(old, new)).select_related("author")}
    if old not in versions or new not in versions:
        raise Http404("No such version.")
    return render(
        request, "knowledge/diff.html",
        {"article": article, "old": versions[old], "new": versions[new],
         "hunks": version_diff(versions[old].body, versions[new].body),
         "title_changed": versions[old].title != versions[new].title},
    )


@login_required
def file_download(request, file_id: int):
    stored = get_object_or_404(ArticleFile, pk=file_id)
    queries.article_for(request.user, stored.article_id)  # the same access rule as the article
    response = FileResponse(stored.file.open("rb"), content_type=stored.content_type, as_attachment=True,
                            filename=stored.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
