"""The shared knowledge base: articles with versions, files, followers and a search index."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accord.core.models import Team


class ArticleKind(models.TextChoices):
    MESSAGING = "messaging", "Messaging guide"
    BATTLECARD = "battlecard", "Battlecard"
    PLAYBOOK = "playbook", "Playbook"
    CASE_STUDY = "case_study", "Case study"
    PRICE_SHEET = "price_sheet", "Price sheet"
    PROCESS = "process", "Process document"
    OTHER = "other", "Other"


class Audience(models.TextChoices):
    BOTH = "both", "Both teams"
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"


class ArticleStatus(models.TextChoices):
    # A draft is private to its owner until published.
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Article(models.Model):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ArticleKind.choices, default=ArticleKind.OTHER, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="articles")
    team = models.CharField(max_length=16, choices=Team.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.BOTH)
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=True)
    body = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class LabelKind(models.TextChoices):
    TAG = "tag", "Tag"
    PERSONA = "persona", "Persona"
    STAGE = "stage", "Lifecycle stage"


class ArticleLabel(models.Model):
    """A tag, a persona or a lifecycle stage an article serves: rows, so both engines can index them."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="labels")
    kind = models.CharField(max_length=8, choices=LabelKind.choices)
    value = models.CharField(max_length=60)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["article", "kind", "value"], name="article_label_once")]
        indexes = [models.Index(fields=["kind", "value"], name="article_label_lookup")]


class ArticleVersion(models.Model):
    """Every saved state of an article, so any two can be compared."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    change_note = models.CharField(max_length=300, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_once")]


class ArticleFile(models.Model):
    """An uploaded file; stored outside the static tree and served only to signed-in users."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="knowledge/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["original_name"]


class ArticleFollower(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_articles")
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="follow_article_once")]


class ArticleSearchDocument(models.Model):
    """What the full-text index sees of an article (title, tags, personas, body).

    PostgreSQL searches it with a GIN expression index over ``to_tsvector``; SQLite mirrors it
    into an FTS5 table. Both are kept current by the services that save articles.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="search_document")
    title = models.CharField(max_length=200)
    document = models.TextField()
