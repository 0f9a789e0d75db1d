"""Background work for scoring: the daily decay, and a whole-base rescore on demand."""

from __future__ import annotations

from datetime import timedelta

from accord.scoring.services import scores_rescore
from accord.worker.registry import job_handler


@job_handler("scoring.decay", every=timedelta(days=1))
def decay_scores(payload: dict) -> dict:
    """Rescore every contact as of now, so engagement points fade by their half-lives.

    Idempotent: running it twice in a row changes nothing the second time.
    """
    summary = scores_rescore()
    return {"scored": summary.scored, "changed": summary.changed, "moved_to_mql": len(summary.moved_to_mql)}


@job_handler("scoring.rescore_all")
def rescore_all(payload: dict) -> dict:
    summary = scores_rescore()
    return {"scored": summary.scored, "changed": summary.changed, "moved_to_mql": len(summary.moved_to_mql)}


@job_handler("scoring.catch_up", every=timedelta(minutes=5))
def catch_up(payload: dict) -> dict:
    """Rescore contacts whose touchpoints arrived outside the capture pipeline (logged calls,
    the touchpoint API): everyone with a touchpoint in the last 15 minutes. Overlapping
    windows make a missed run harmless; rescoring twice changes nothing."""
    from accord.campaigns.models import Touchpoint
    from accord.core.clock import now

    since = now() - timedelta(minutes=15)
    ids = set(Touchpoint.objects.filter(occurred_at__gte=since, occurred_at__lte=now()).values_list("contact_id", flat=True))
    summary = scores_rescore(contact_ids=ids)
    return {"scored": summary.scored, "changed": summary.changed, "moved_to_mql": len(summary.moved_to_mql)}
