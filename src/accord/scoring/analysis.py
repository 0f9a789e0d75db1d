"""Looking before switching: a proposed version against the live one, and both against history.

Both read the whole base set-wise through the engine (batch by batch, bounded memory) and
write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from accord.crm.models import Contact, Opportunity, OpportunityStage
from accord.scoring.engine import ModelSpec, score_contacts
from accord.scoring.models import GRADES, ScoringModel

SCORE_BANDS = ((None, 0, "below 0"), (0, 25, "0–24"), (25, 50, "25–49"), (50, 75, "50–74"), (75, 100, "75–99"), (100, None, "100+"))
SAMPLE = 50


def band_of(score: int) -> str:
    for low, high, label in SCORE_BANDS:
        if (low is None or score >= low) and (high is None or score < high):
            return label
    raise AssertionError("bands cover every score")


@dataclass
class Comparison:
    proposed_mql: int = 0
    active_mql: int = 0
    contacts: int = 0
    moved_in: int = 0
    moved_out: int = 0
    moved_in_sample: list[Contact] = field(default_factory=list)
    moved_out_sample: list[Contact] = field(default_factory=list)
    grade_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # grade → {"proposed": n, "active": n}


def models_compare(*, proposed: ScoringModel, active: ScoringModel | None, moment: datetime) -> Comparison:
    """MQL counts under both versions and who moves in or out (a sample of each, by name)."""
    result = Comparison(grade_counts={g: {"proposed": 0, "active": 0} for g in GRADES})
    proposed_batches = score_contacts(ModelSpec.of(proposed), moment=moment)
    active_batches = score_contacts(ModelSpec.of(active), moment=moment) if active else None
    moved_in: list[int] = []
    moved_out: list[int] = []
    for batch in proposed_batches:
        other = {s.contact_id: s for s in next(active_batches, [])} if active_batches is not None else {}
        for new in batch:
            old = other.get(new.contact_id)
            result.contacts += 1
            result.grade_counts[new.grade]["proposed"] += 1
            result.proposed_mql += new.qualified
            was = bool(old and old.qualified)
            if old is not None:
                result.grade_counts[old.grade]["active"] += 1
                result.active_mql += old.qualified
            if new.qualified and not was:
                result.moved_in += 1
                if len(moved_in) < SAMPLE:
                    moved_in.append(new.contact_id)
            elif was and not new.qualified:
                result.moved_out += 1
                if len(moved_out) < SAMPLE:
                    moved_out.append(new.contact_id)
    people = Contact.objects.select_related("account").in_bulk(moved_in + moved_out)
    result.moved_in_sample = [people[i] for i in moved_in if i in people]
    result.moved_out_sample = [people[i] for i in moved_out if i in people]
    return result


@dataclass
class BacktestRow:
    label: str
    contacts: int = 0
    opportunities: int = 0
    won: int = 0

    @property
    def opportunity_rate(self) -> float:
        return self.opportunities / self.contacts if self.contacts else 0.0

    @property
    def won_rate(self) -> float:
        return self.won / self.contacts if self.contacts else 0.0


@dataclass
class Backtest:
    contacts: int
    opportunities: int
    won: int
    auc: float | None
    by_band: list[BacktestRow]
    by_grade: list[BacktestRow]


def roc_auc(scores, labels) -> float | None:
    """Area under the ROC curve (the chance a random positive outranks a random negative; ties half)."""
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=float)
    # Average rank over runs of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def model_backtest(*, model: ScoringModel, moment: datetime) -> Backtest:
    """Score every contact on what was known before its first opportunity, then see who converted."""
    spec = ModelSpec.of(model)
    outcomes = Opportunity.objects.filter(primary_contact__isnull=False).values_list("primary_contact_id", "stage")
    with_opportunity: set[int] = set()
    won: set[int] = set()
    for contact_id, stage in outcomes.iterator(chunk_size=5000):
        with_opportunity.add(contact_id)
        if stage == OpportunityStage.WON:
            won.add(contact_id)
    bands = {label: BacktestRow(label) for _, _, label in SCORE_BANDS}
    grades = {g: BacktestRow(g) for g in GRADES}
    scores: list[int] = []
    labels: list[bool] = []
    for batch in score_contacts(spec, moment=moment, before_first_opportunity=True):
        for s in batch:
            is_opp, is_won = s.contact_id in with_opportunity, s.contact_id in won
            for row in (bands[band_of(s.score)], grades[s.grade]):
                row.contacts += 1
                row.opportunities += is_opp
                row.won += is_won
            scores.append(s.score)
            labels.append(is_won)
    return Backtest(
        contacts=len(scores),
        opportunities=sum(r.opportunities for r in grades.values()),
        won=sum(r.won for r in grades.values()),
        auc=roc_auc(scores, labels),
        by_band=list(bands.values()),
        by_grade=list(grades.values()),
    )
