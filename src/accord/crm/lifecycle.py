"""The lifecycle of a contact and every move it may make, defined here and nowhere else.

The main line runs subscriber → lead → MQL → SAL → SQL → opportunity → customer. A contact
may skip ahead on the main line. Moving back down it, out to recycled or disqualified, or
out of disqualified, needs a written reason.
"""

from __future__ import annotations

from django.db import models


class Stage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL"
    SQL = "sql", "SQL"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    RECYCLED = "recycled", "Recycled"
    DISQUALIFIED = "disqualified", "Disqualified"


MAIN_LINE: tuple[str, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SAL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
_RANK = {stage: rank for rank, stage in enumerate(MAIN_LINE)}
# Stages Sales has already taken on: scoring must never demote these silently.
ACCEPTED_BY_SALES = frozenset({Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER})
# Where a not-yet-customer can be sent back to nurturing or ruled out.
_WORKABLE = frozenset({Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY})


def _build_moves() -> dict[str, dict[str, bool]]:
    """from stage → {to stage: needs_reason}"""
    moves: dict[str, dict[str, bool]] = {stage: {} for stage in Stage.values}
    for source in MAIN_LINE:
        for target in MAIN_LINE:
            if source != target:
                moves[source][target] = _RANK[target] < _RANK[source]
    for source in _WORKABLE:
        moves[source][Stage.RECYCLED] = True
        moves[source][Stage.DISQUALIFIED] = True
    # Customers are not recycled or disqualified; a new deal moves them back to opportunity.
    # A recycled lead re-enters nurturing or qualifies again without further explanation.
    moves[Stage.RECYCLED] = {
        Stage.SUBSCRIBER: False,
        Stage.LEAD: False,
        Stage.MQL: False,
        Stage.SAL: False,
        Stage.DISQUALIFIED: True,
    }
    # Ruling a disqualification wrong is itself a decision that needs its reason.
    moves[Stage.DISQUALIFIED] = {
        Stage.SUBSCRIBER: True,
        Stage.LEAD: True,
        Stage.RECYCLED: True,
    }
    return moves


ALLOWED_MOVES = _build_moves()


class MoveRefused(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def check_move(from_stage: str, to_stage: str, reason: str) -> None:
    """Raise MoveRefused unless the move is allowed and, when it needs one, has a reason."""
    if to_stage not in Stage.values:
        raise MoveRefused(f"'{to_stage}' is not a lifecycle stage; use one of {', '.join(Stage.values)}")
    if from_stage == to_stage:
        raise MoveRefused(f"the contact is already {Stage(to_stage).label}")
    needs_reason = ALLOWED_MOVES.get(from_stage, {}).get(to_stage)
    if needs_reason is None:
        raise MoveRefused(f"a contact cannot move from {Stage(from_stage).label} to {Stage(to_stage).label}")
    if needs_reason and not reason.strip():
        raise MoveRefused(
            f"moving from {Stage(from_stage).label} to {Stage(to_stage).label} needs a reason"
        )


def is_forward(from_stage: str, to_stage: str) -> bool:
    """True when ``to_stage`` is further along the main line than ``from_stage``."""
    if from_stage in _RANK and to_stage in _RANK:
        return _RANK[to_stage] > _RANK[from_stage]
    return from_stage == Stage.RECYCLED and to_stage in (Stage.LEAD, Stage.MQL, Stage.SAL)


def rank(stage: str) -> int:
    """Position on the main line; stages off it sort before subscriber."""
    return _RANK.get(stage, -1)
