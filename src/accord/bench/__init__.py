"""Benchmarks: ``accord bench NAME [--json PATH]``.

Each benchmark module registers a function with ``@benchmark("name")``. The function receives
the parsed options and returns a list of ``Figure`` rows: one per target, each measured
against a baseline taken in the same run, so the ratio means something on a noisy machine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

_REGISTRY: dict[str, Callable[..., list["Figure"]]] = {}
# Modules that define benchmarks; imported lazily so `accord bench` starts fast.
BENCH_MODULES = (
    "accord.bench.ingest",
    "accord.bench.scoring",
    "accord.bench.dedup",
    "accord.bench.reports",
    "accord.bench.handoff",
    "accord.bench.outreach",
    "accord.bench.knowledge",
)


@dataclass
class Figure:
    target: str
    figure: float
    unit: str
    limit: float | None = None
    # "max": the figure must be at most the limit; "min": at least.
    direction: str = "max"
    details: dict = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return self.figure <= self.limit if self.direction == "max" else self.figure >= self.limit

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("direction")
        data["met"] = self.met
        return data


def benchmark(name: str):
    def register(function: Callable[..., list[Figure]]):
        _REGISTRY[name] = function
        return function

    return register


def available() -> dict[str, Callable[..., list[Figure]]]:
    for module in BENCH_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            if missing.name != module:
                raise
    return dict(sorted(_REGISTRY.items()))
