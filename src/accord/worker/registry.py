"""What the background worker can run: job handlers and periodic schedules, declared by apps.

Each app declares its jobs in ``accord/<app>/jobs.py``::

    from accord.worker.registry import job_handler

    @job_handler("scoring.decay", every=timedelta(days=1))
    def decay_scores(payload: dict) -> None: ...

A handler receives the job's JSON payload. It must be idempotent: a worker killed mid-job
runs it again, so a retried handler may find its work partly or wholly done.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps


@dataclass(frozen=True)
class Handler:
    name: str
    function: Callable[[dict], object]
    # Run on its own every so often (the worker enqueues it); None for on-demand jobs.
    every: timedelta | None = None
    max_attempts: int = 5


_HANDLERS: dict[str, Handler] = {}


def job_handler(name: str, *, every: timedelta | None = None, max_attempts: int = 5):
    def register(function: Callable[[dict], object]):
        if name in _HANDLERS and _HANDLERS[name].function is not function:
            raise ValueError(f"two job handlers are named {name!r}")
        _HANDLERS[name] = Handler(name=name, function=function, every=every, max_attempts=max_attempts)
        return function

    return register


def discover_handlers() -> dict[str, Handler]:
    """Import every installed app's ``jobs`` module once, then return the handlers by name."""
    for config in apps.get_app_configs():
        if not config.name.startswith("accord."):
            continue
        try:
            importlib.import_module(f"{config.name}.jobs")
        except ModuleNotFoundError as missing:
            if missing.name != f"{config.name}.jobs":
                raise
    return dict(_HANDLERS)
