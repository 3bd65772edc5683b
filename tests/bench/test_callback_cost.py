"""bench.callback_cost reads every watching callback's seconds back from a run's events."""

import pytest

from bench.callback_cost import callback_cost


def test_every_watching_callbacks_rounds_are_counted_against_training_time(watched):
    """``watched``: a 2-epoch fit with the sample, attention and lens callbacks all on."""
    cost = callback_cost(watched)
    assert cost["rounds"] == 3  # before training, then after each of the 2 epochs
    per_round = [cost[f"{tag}, mean per round"] for tag in ("gen/seconds", "attn/seconds", "lens/seconds")]
    assert all(seconds > 0 for seconds in per_round)
    assert cost["callbacks, seconds in all"] == pytest.approx(3 * sum(per_round))
    assert cost["share of training time"] == pytest.approx(
        cost["callbacks, seconds in all"] / cost["training, seconds"]
    )
