"""Attribution models over touchpoint paths, vectorised with numpy.

A *path set* is every conversion's ordered touches, flattened into parallel arrays: the
conversion each touch belongs to (``group``, sorted, touches in time order inside a group),
the credit key of the touch (a campaign or, without one, a channel, as a small integer), the
time it happened, and whether it was a direct visit. Each conversion carries a value (1 for a
lead, the amount for pipeline) and its time; W-shaped also needs the lead-creation and
opportunity-creation times.

Every model returns one weight per touch such that the weights of each non-empty path add up
to 1, so ``value × weight`` summed over any grouping conserves the total. Conversions with
no touch at all are credited to ``NO_TOUCH`` by the caller (``credit_by_key``), never lost.

Markov attribution is exact: the first-order (or order-k) transition matrix is built from
converting and non-converting paths, and each key's *removal effect* — the relative drop in
the probability of reaching conversion from the start when that key's states lead nowhere —
is solved from the absorbing chain (I − Q)·x = r with numpy's linear solver, no simulation.
Each conversion's value is then shared among the distinct keys on its own path in proportion
to their removal effects, so Markov credit can be filtered by month like the other models and
still adds up to the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MODELS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "markov",
)
MODEL_LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch (non-direct)",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based 40/20/40",
    "w_shaped": "W-shaped",
    "markov": "Markov removal effect",
}
DEFAULT_HALF_LIFE_DAYS = 7.0
NO_TOUCH = -1  # credit key for conversions with an empty path


@dataclass
class PathSet:
    """Touches of many conversions, flattened. All arrays of touches have equal length."""

    group: np.ndarray  # int64, conversion index per touch, non-decreasing
    key: np.ndarray  # int64, credit key per touch (>= 0)
    time: np.ndarray  # float64, seconds since epoch
    direct: np.ndarray  # bool
    n_conversions: int
    conv_time: np.ndarray  # float64 per conversion
    value: np.ndarray  # float64 per conversion
    lead_time: np.ndarray | None = None  # float64 per conversion, NaN when unknown
    opp_time: np.ndarray | None = None
    # Paths that did not convert (for Markov): same flattened layout, groups 0..n_null-1.
    null_group: np.ndarray | None = None
    null_key: np.ndarray | None = None
    n_null: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_lists(
        cls,
        paths: Sequence[Sequence[tuple]],
        *,
        values: Sequence[float] | None = None,
        conv_times: Sequence[float] | None = None,
        lead_times: Sequence[float | None] | None = None,
        opp_times: Sequence[float | None] | None = None,
        null_paths: Sequence[Sequence[int]] = (),
    ) -> "PathSet":
        """Build from Python lists; each touch is ``(key, time)`` or ``(key, time, direct)``.

        Convenient for tests and small data; the report loader builds the arrays directly.
        """
        group, key, time, direct = [], [], [], []
        for index, path in enumerate(paths):
            for touch in path:
                group.append(index)
                key.append(touch[0])
                time.append(float(touch[1]))
                direct.append(bool(touch[2]) if len(touch) > 2 else False)
        n = len(paths)
        last = [max((float(t[1]) for t in p), default=0.0) for p in paths]
        null_group = [i for i, p in enumerate(null_paths) for _ in p]
        null_key = [k for p in null_paths for k in p]

        def optional(seq):
            if seq is None:
                return None
            return np.array([np.nan if v is None else float(v) for v in seq], dtype=np.float64)

        return cls(
            group=np.array(group, dtype=np.int64),
            key=np.array(key, dtype=np.int64),
            time=np.array(time, dtype=np.float64),
            direct=np.array(direct, dtype=bool),
            n_conversions=n,
            conv_time=np.array(conv_times if conv_times is not None else last, dtype=np.float64),
            value=np.array(values if values is not None else [1.0] * n, dtype=np.float64),
            lead_time=optional(lead_times),
            opp_time=optional(opp_times),
            null_group=np.array(null_group, dtype=np.int64),
            null_key=np.array(null_key, dtype=np.int64),
            n_null=len(null_paths),
        )

    # -- per-touch helpers, computed once ------------------------------------------------
    def _layout(self):
        if "layout" not in self._cache:
            g = self.group
            n = len(g)
            if n:
                is_start = np.empty(n, dtype=bool)
                is_start[0] = True
                is_start[1:] = g[1:] != g[:-1]
                starts = np.flatnonzero(is_start)
                lengths = np.diff(np.append(starts, n))
                start_of = np.repeat(starts, lengths)
                length_of = np.repeat(lengths, lengths)
                pos = np.arange(n) - start_of
            else:
                starts = lengths = start_of = length_of = pos = np.zeros(0, dtype=np.int64)
            self._cache["layout"] = (starts, lengths, start_of, length_of, pos)
        return self._cache["layout"]

    @property
    def touch_count(self) -> int:
        return int(len(self.group))


def _group_sum(ps: PathSet, values: np.ndarray) -> np.ndarray:
    """Sum of per-touch values within each path, broadcast back to its touches."""
    starts, lengths, *_ = ps._layout()
    if not len(values):
        return values
    sums = np.add.reduceat(values, starts)
    return np.repeat(sums, lengths)


def _normalise(ps: PathSet, raw: np.ndarray) -> np.ndarray:
    totals = _group_sum(ps, raw)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(totals > 0, raw / np.where(totals > 0, totals, 1), 0.0)
    # A path whose raw weights are all zero falls back to linear, so credit is never lost.
    _, _, _, length_of, _ = ps._layout()
    return np.where(totals > 0, out, 1.0 / np.maximum(length_of, 1))


def weights_first_touch(ps: PathSet) -> np.ndarray:
    *_, pos = ps._layout()
    return (pos == 0).astype(np.float64)


def weights_last_touch(ps: PathSet) -> np.ndarray:
    """The last touch that is not a direct visit; the last touch when every touch is direct."""
    starts, lengths, start_of, length_of, pos = ps._layout()
    n = ps.touch_count
    if not n:
        return np.zeros(0)
    index = np.arange(n)
    candidate = np.where(~ps.direct, index, -1)
    best = np.maximum.reduceat(candidate, starts)
    best = np.where(best < 0, starts + lengths - 1, best)
    chosen = np.repeat(best, lengths)
    return (index == chosen).astype(np.float64)


def weights_linear(ps: PathSet) -> np.ndarray:
    *_, length_of, _ = ps._layout()
    return 1.0 / np.maximum(length_of, 1)


def weights_time_decay(ps: PathSet, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> np.ndarray:
    """Weight 2^(−age / half-life), age measured back from the conversion, then normalised."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    if not ps.touch_count:
        return np.zeros(0)
    starts, lengths, *_ = ps._layout()
    # Measured from the path's latest touch, so the largest weight is 1 and nothing underflows
    # to zero; the ratio between touches is the same as measured from the conversion.
    latest = np.repeat(np.maximum.reduceat(ps.time, starts), lengths)
    age_days = (latest - ps.time) / 86400.0
    return _normalise(ps, np.exp2(-age_days / half_life_days))


def weights_position_based(ps: PathSet, *, first: float = 0.4, last: float = 0.4) -> np.ndarray:
    """40 % to the first touch, 40 % to the last, 20 % spread over the touches between.

    One touch takes everything; two touches split first/last in proportion (50/50 by default).
    """
    *_, length_of, pos = ps._layout()
    middle = 1.0 - first - last
    w = np.zeros(ps.touch_count)
    one = length_of == 1
    two = length_of == 2
    many = length_of >= 3
    w[one] = 1.0
    w[two & (pos == 0)] = first / (first + last)
    w[two & (pos == 1)] = last / (first + last)
    w[many & (pos == 0)] = first
    w[many & (pos == length_of - 1)] = last
    inner = many & (pos > 0) & (pos < length_of - 1)
    w[inner] = middle / (length_of[inner] - 2)
    return w


def _milestone_index(ps: PathSet, times: np.ndarray | None) -> np.ndarray:
    """Per conversion: index of the last touch at or before the milestone time, or −1."""
    starts, lengths, *_ = ps._layout()
    if times is None or not ps.touch_count:
        return np.full(len(starts), -1, dtype=np.int64)
    milestone = np.repeat(times[ps.group[starts]], lengths)
    index = np.arange(ps.touch_count)
    candidate = np.where(ps.time <= milestone, index, -1)  # NaN compares False → −1
    return np.maximum.reduceat(candidate, starts)


def weights_w_shaped(ps: PathSet, *, key_share: float = 0.9) -> np.ndarray:
    """30 % each to the first touch, the lead-creation touch and the opportunity-creation touch,
    10 % spread over the rest. A milestone missing from a path (a lead has no opportunity yet)
    or falling on the same touch as another leaves fewer key touches, which share the key part
    equally; a path made only of key touches splits evenly."""
    if not ps.touch_count:
        return np.zeros(0)
    starts, lengths, start_of, length_of, pos = ps._layout()
    n = ps.touch_count
    index = np.arange(n)
    is_key = pos == 0
    for milestone in (_milestone_index(ps, ps.lead_time), _milestone_index(ps, ps.opp_time)):
        hit = milestone[milestone >= 0]
        is_key[hit] = True
    keys_per_path = np.add.reduceat(is_key.astype(np.int64), starts)
    keys_of = np.repeat(keys_per_path, lengths)
    rest_of = length_of - keys_of
    w = np.where(
        rest_of == 0,
        1.0 / keys_of,
        np.where(is_key, key_share / keys_of, (1.0 - key_share) / np.maximum(rest_of, 1)),
    )
    del index
    return w


# -- Markov ----------------------------------------------------------------------------
@dataclass
class MarkovResult:
    keys: np.ndarray  # distinct keys seen, sorted
    removal_effect: np.ndarray  # per key, in [0, 1]
    conversion_probability: float
    order: int


def _state_sequences(group: np.ndarray, key: np.ndarray, order: int):
    """Map each touch to a state id (the tuple of the last ``order`` keys within its path)."""
    if order == 1:
        uniq, inverse = np.unique(key, return_inverse=True)
        return inverse.astype(np.int64), [(k,) for k in uniq.tolist()]
    cols = []
    for lag in range(order - 1, -1, -1):
        shifted = np.full(len(key), -2, dtype=np.int64)  # −2 marks "before the path started"
        if lag == 0:
            shifted[:] = key
        else:
            same = np.zeros(len(key), dtype=bool)
            same[lag:] = group[lag:] == group[:-lag]
            shifted[lag:][same[lag:]] = key[:-lag][same[lag:]]
        cols.append(shifted)
    stacked = np.stack(cols, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), [tuple(int(v) for v in row if v != -2) for row in uniq]


def markov_removal_effects(ps: PathSet, *, order: int = 1) -> MarkovResult:
    """Exact removal effects from the order-k absorbing Markov chain of all paths."""
    if order < 1:
        raise ValueError("order must be at least 1")
    conv_group = ps.group
    conv_key = ps.key
    null_group = ps.null_group if ps.null_group is not None else np.zeros(0, dtype=np.int64)
    null_key = ps.null_key if ps.null_key is not None else np.zeros(0, dtype=np.int64)
    # One combined list: converting paths first, then non-converting, with distinct group ids.
    group = np.concatenate([conv_group, null_group + ps.n_conversions])
    key = np.concatenate([conv_key, null_key])
    converted_flag = np.concatenate([np.ones(ps.n_conversions, bool), np.zeros(ps.n_null, bool)])
    if not len(group):
        return MarkovResult(np.zeros(0, np.int64), np.zeros(0), 0.0, order)
    order_idx = np.argsort(group, kind="stable")
    group, key = group[order_idx], key[order_idx]
    state, state_keys = _state_sequences(group, key, order)
    s = len(state_keys)
    # Transient states: 0 = start, 1..s = touch states. Absorbing: conversion, null.
    start_state = 0
    n_t = s + 1
    is_start = np.empty(len(group), bool)
    is_start[0] = True
    is_start[1:] = group[1:] != group[:-1]
    is_end = np.empty(len(group), bool)
    is_end[-1] = True
    is_end[:-1] = group[1:] != group[:-1]
    st = state + 1
    counts = np.zeros((n_t, n_t + 2))  # last two columns: conversion, null
    # start → first state of each path
    np.add.at(counts, (np.full(int(is_start.sum()), start_state), st[is_start]), 1)
    # state → next state within a path
    inner = ~is_end
    np.add.at(counts, (st[inner], st[1:][inner[:-1]]), 1)
    # last state → conversion or null
    ends_converted = converted_flag[group[is_end]]
    np.add.at(counts, (st[is_end], np.where(ends_converted, n_t, n_t + 1)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    q = probs[:, :n_t]
    r = probs[:, n_t]

    def conversion_probability(dead: np.ndarray | None) -> float:
        qq, rr = q, r
        if dead is not None and dead.any():
            qq = q.copy()
            rr = r.copy()
            qq[dead, :] = 0.0  # a removed state leads straight to null
            rr[dead] = 0.0
        x = np.linalg.solve(np.eye(n_t) - qq, rr)
        return float(x[start_state])

    distinct = np.unique(key)
    effects = np.zeros(len(distinct))
    if order == 1:
        # One inverse serves every removal: with N = (I − Q)⁻¹ and x = N·r, the chance to
        # convert from the start without ever passing through state c is
        # x_s − (N[s,c] / N[c,c])·x_c  (reach c first, then convert from c).
        fundamental = np.linalg.inv(np.eye(n_t) - q)
        x = fundamental @ r
        base = float(x[start_state])
        if base > 0:
            states = np.arange(1, n_t)  # state ids of the keys, in the order of ``distinct``
            without = base - fundamental[start_state, states] / np.diag(fundamental)[states] * x[states]
            effects = 1.0 - without / base
        return MarkovResult(distinct, np.clip(effects, 0.0, 1.0), base, order)
    base = conversion_probability(None)
    if base > 0:
        member = np.zeros((len(distinct), n_t), dtype=bool)
        position = {int(k): i for i, k in enumerate(distinct.tolist())}
        for sid, keys in enumerate(state_keys):
            for k in set(keys):
                member[position[k], sid + 1] = True
        for i in range(len(distinct)):
            effects[i] = 1.0 - conversion_probability(member[i]) / base
    effects = np.clip(effects, 0.0, 1.0)
    return MarkovResult(distinct, effects, base, order)


def weights_markov(ps: PathSet, *, order: int = 1, result: MarkovResult | None = None) -> np.ndarray:
    """Each path's credit shared among its distinct keys by removal effect (split evenly
    between repeated touches of one key)."""
    if not ps.touch_count:
        return np.zeros(0)
    result = result or markov_removal_effects(ps, order=order)
    lookup = np.searchsorted(result.keys, ps.key)
    effect = result.removal_effect[np.clip(lookup, 0, len(result.keys) - 1)]
    # Count repeats of (path, key) so a key touched three times gets its share once, in thirds.
    pair = ps.group * (int(ps.key.max()) + 1) + ps.key
    _, inverse, repeats = np.unique(pair, return_inverse=True, return_counts=True)
    raw = effect / repeats[inverse]
    return _normalise(ps, raw)


def model_weights(ps: PathSet, model: str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS, markov_order: int = 1):
    if model == "first_touch":
        return weights_first_touch(ps)
    if model == "last_touch":
        return weights_last_touch(ps)
    if model == "linear":
        return weights_linear(ps)
    if model == "time_decay":
        return weights_time_decay(ps, half_life_days=half_life_days)
    if model == "position_based":
        return weights_position_based(ps)
    if model == "w_shaped":
        return weights_w_shaped(ps)
    if model == "markov":
        return weights_markov(ps, order=markov_order)
    raise ValueError(f"unknown attribution model {model!r}; use one of {', '.join(MODELS)}")


def credit_by_key(ps: PathSet, weights: np.ndarray, *, bucket: np.ndarray | None = None) -> dict[tuple[int, int], float]:
    """Credit per (bucket, key): value × weight summed; empty paths go to ``NO_TOUCH``.

    ``bucket`` is an optional small integer per conversion (a month index, say); 0 when absent.
    """
    bucket = bucket if bucket is not None else np.zeros(ps.n_conversions, dtype=np.int64)
    out: dict[tuple[int, int], float] = {}
    if ps.touch_count:
        credit = ps.value[ps.group] * weights
        touch_bucket = bucket[ps.group]
        width = int(ps.key.max()) + 1
        combined = touch_bucket * width + ps.key
        uniq, inverse = np.unique(combined, return_inverse=True)
        sums = np.bincount(inverse, weights=credit)
        for code, amount in zip(uniq.tolist(), sums.tolist()):
            out[(code // width, code % width)] = amount
    has_path = np.zeros(ps.n_conversions, dtype=bool)
    has_path[ps.group] = True
    empty = ~has_path
    if empty.any():
        empty_buckets, inverse = np.unique(bucket[empty], return_inverse=True)
        sums = np.bincount(inverse, weights=ps.value[empty])
        for b, amount in zip(empty_buckets.tolist(), sums.tolist()):
            out[(b, NO_TOUCH)] = out.get((b, NO_TOUCH), 0.0) + amount
    return out


def attribute(ps: PathSet, model: str, **options) -> dict[int, float]:
    """Credit per key under one model, all buckets together. Adds up to ``ps.value.sum()``."""
    totals: dict[int, float] = {}
    for (_, key), amount in credit_by_key(ps, model_weights(ps, model, **options)).items():
        totals[key] = totals.get(key, 0.0) + amount
    return totals
