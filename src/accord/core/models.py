from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class Team(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"


class User(AbstractUser):
    """A person on either team. The role decides what they may do (see core.permissions)."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SALES, db_index=True)
    # Managers and admins belong to a team too, so reports can split their work by side.
    team = models.CharField(max_length=16, choices=Team.choices, default=Team.SALES, db_index=True)
    title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_away = models.BooleanField(default=False)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the raw value is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotentRequest(models.Model):
    """The first response to a request sent with an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="idempotency_key_once_per_user")
        ]


class LoginAttempt(models.Model):
    """Failed sign-ins, counted per username and per client address to slow guessing."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.CharField(max_length=45, db_index=True)
    attempted_at = models.DateTimeField(db_index=True)
