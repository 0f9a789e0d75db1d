"""The handoff clock, run by the worker (``accord worker``)."""

from __future__ import annotations

from datetime import timedelta

from accord.handoff.services import handoffs_open_pending, handoffs_reenter, handoffs_sweep
from accord.worker.registry import job_handler


@job_handler("handoff.open_pending", every=timedelta(minutes=1))
def open_pending(payload: dict) -> dict:
    """MQLs without a handoff (moved by hand, by a scoring model going live, or re-entered)."""
    return {"opened": handoffs_open_pending()}


@job_handler("handoff.sweep", every=timedelta(minutes=1))
def sweep(payload: dict) -> dict:
    """Due warnings and breaches, claimed set-wise; each notice is sent exactly once."""
    result = handoffs_sweep(batch_size=int(payload.get("batch_size", 1000)))
    return {"warned": result.warned, "breached": result.breached, "reassigned": result.reassigned}


@job_handler("handoff.reenter", every=timedelta(hours=1))
def reenter(payload: dict) -> dict:
    """Recycled leads whose re-entry date has come go back to nurturing."""
    return {"reentered": handoffs_reenter()}
