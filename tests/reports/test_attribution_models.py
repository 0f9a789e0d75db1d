"""Each attribution model on small paths worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from accord.reports.attribution import (
    MODELS,
    NO_TOUCH,
    PathSet,
    attribute,
    credit_by_key,
    markov_removal_effects,
    model_weights,
)

DAY = 86400.0
A, B, C, D = 0, 1, 2, 3


def approx(mapping):
    return pytest.approx(mapping, abs=1e-9)


def test_first_touch_credits_the_first_touch_of_each_path():
    ps = PathSet.from_lists([[(A, 0), (B, 1), (C, 2)], [(C, 0), (A, 1)]])
    assert attribute(ps, "first_touch") == approx({A: 1.0, B: 0.0, C: 1.0})


def test_last_touch_skips_direct_visits_unless_every_touch_is_direct():
    ps = PathSet.from_lists(
        [
            [(A, 0), (B, 1), (D, 2, True)],  # the direct visit at the end is ignored → B
            [(D, 0, True), (D, 1, True)],  # only direct visits → the last one
        ]
    )
    assert attribute(ps, "last_touch") == approx({A: 0.0, B: 1.0, D: 1.0})


def test_linear_splits_evenly_per_touch():
    ps = PathSet.from_lists([[(A, 0), (B, 1), (A, 2), (C, 3)]], values=[100.0])
    assert attribute(ps, "linear") == approx({A: 50.0, B: 25.0, C: 25.0})


def test_time_decay_halves_credit_every_half_life_before_the_conversion():
    # Touches 14, 7 and 0 days before the last one, half-life 7 days: weights 1/4, 1/2, 1.
    ps = PathSet.from_lists([[(A, 0), (B, 7 * DAY), (C, 14 * DAY)]], values=[7.0])
    credit = attribute(ps, "time_decay", half_life_days=7)
    assert credit == approx({A: 1.0, B: 2.0, C: 4.0})
    # A shorter half-life moves credit towards the end.
    assert attribute(ps, "time_decay", half_life_days=1)[C] > 6.9


def test_time_decay_refuses_a_half_life_that_is_not_positive():
    ps = PathSet.from_lists([[(A, 0)]])
    with pytest.raises(ValueError):
        attribute(ps, "time_decay", half_life_days=0)


def test_position_based_gives_40_20_40():
    ps = PathSet.from_lists(
        [
            [(A, 0), (B, 1), (C, 2), (D, 3)],  # 0.4, 0.1, 0.1, 0.4
            [(A, 0), (B, 1)],  # 0.5, 0.5
            [(C, 0)],  # 1
        ]
    )
    assert attribute(ps, "position_based") == approx({A: 0.9, B: 0.6, C: 1.1, D: 0.4})


def test_w_shaped_gives_30_percent_to_first_lead_and_opportunity_touches():
    # Five touches; the lead was created right after touch 2 and the opportunity after touch 4.
    path = [(A, 0), (B, 10), (C, 20), (D, 30), (A, 40)]
    ps = PathSet.from_lists([path], lead_times=[15], opp_times=[35])
    weights = model_weights(ps, "w_shaped")
    assert weights.tolist() == pytest.approx([0.3, 0.3, 0.05, 0.3, 0.05])
    assert attribute(ps, "w_shaped") == approx({A: 0.35, B: 0.3, C: 0.05, D: 0.3})


def test_w_shaped_without_an_opportunity_shares_the_key_part_between_two_touches():
    ps = PathSet.from_lists([[(A, 0), (B, 10), (C, 20)]], lead_times=[25])
    # Key touches: first (A) and lead creation (C); B takes the remaining 10 %.
    assert model_weights(ps, "w_shaped").tolist() == pytest.approx([0.45, 0.1, 0.45])


def test_markov_removal_effect_matches_the_absorbing_chain_by_hand():
    # Paths: A→B→conversion, B→conversion, A→null.
    # start→A 2/3, start→B 1/3; A→B 1/2, A→null 1/2; B→conversion 1.
    # P(conv) = 2/3·1/2 + 1/3 = 2/3. Without A: 1/3 → effect 1/2. Without B: 0 → effect 1.
    ps = PathSet.from_lists([[(A, 0), (B, 1)], [(B, 0)]], null_paths=[[A]])
    result = markov_removal_effects(ps)
    assert result.conversion_probability == pytest.approx(2 / 3)
    assert dict(zip(result.keys.tolist(), result.removal_effect.tolist())) == approx({A: 0.5, B: 1.0})
    # Each path's value shared by removal effect: path 1 gives A 1/3 and B 2/3; path 2 all to B.
    assert attribute(ps, "markov") == approx({A: 1 / 3, B: 5 / 3})


def test_markov_handles_loops_exactly():
    # Converting A→B→A and B; non-converting A and B→A. By hand (see the docs): P(conv) = 1/2,
    # removing A leaves 1/6 (effect 2/3), removing B leaves 1/8 (effect 3/4).
    ps = PathSet.from_lists([[(A, 0), (B, 1), (A, 2)], [(B, 0)]], null_paths=[[A], [B, A]])
    result = markov_removal_effects(ps)
    assert result.conversion_probability == pytest.approx(0.5)
    assert result.removal_effect.tolist() == pytest.approx([2 / 3, 3 / 4])


def test_second_order_markov_removes_every_state_that_contains_the_channel():
    ps = PathSet.from_lists([[(A, 0), (B, 1), (A, 2)], [(B, 0)]], null_paths=[[A], [B, A]])
    result = markov_removal_effects(ps, order=2)
    # States (A), (A,B), (B,A), (B). P(conv) = 1/2; without A only the lone B path converts:
    # start→B 1/2, B→conv 1/2 → 1/4, effect 1/2. Without B nothing converts: effect 1.
    assert result.conversion_probability == pytest.approx(0.5)
    assert result.removal_effect.tolist() == pytest.approx([0.5, 1.0])


@pytest.mark.parametrize("model", MODELS)
def test_every_model_conserves_the_total_being_credited(model):
    rng = np.random.default_rng(7)
    paths, values, leads, opps = [], [], [], []
    for _ in range(300):
        length = int(rng.integers(0, 9))
        times = np.sort(rng.uniform(0, 90 * DAY, length))
        paths.append([(int(rng.integers(0, 12)), t, bool(rng.random() < 0.2)) for t in times])
        values.append(float(rng.uniform(0, 5000)))
        leads.append(float(rng.uniform(0, 90 * DAY)) if rng.random() < 0.8 else None)
        opps.append(float(rng.uniform(0, 90 * DAY)) if rng.random() < 0.5 else None)
    null = [[int(k) for k in rng.integers(0, 12, int(rng.integers(1, 6)))] for _ in range(200)]
    ps = PathSet.from_lists(paths, values=values, lead_times=leads, opp_times=opps, null_paths=null)
    credit = credit_by_key(ps, model_weights(ps, model), bucket=np.arange(300) % 4)
    assert sum(credit.values()) == pytest.approx(sum(values), rel=1e-9)
    empty_total = sum(v for v, p in zip(values, paths) if not p)
    assert sum(v for (_, key), v in credit.items() if key == NO_TOUCH) == pytest.approx(empty_total)
    assert all(v >= -1e-9 for v in credit.values())


def test_unknown_model_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown attribution model"):
        attribute(PathSet.from_lists([[(A, 0)]]), "rainbow")


def test_empty_input_credits_nothing_and_does_not_crash():
    ps = PathSet.from_lists([])
    for model in MODELS:
        assert attribute(ps, model) == {}
    assert markov_removal_effects(ps).conversion_probability == 0.0
