"""The one source of "now", so tests and the worker agree on time."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
