"""bench.callback_cost reads every watching callback's seconds back from a run's events."""

import pytest
import yaml

from bench.callback_cost import callback_cost
from conftest import tiny_fit_args

WATCHING = ("SampleGenerationCallback", "AttentionHeatmapCallback", "LogitLensCallback")


def test_every_watching_callbacks_rounds_are_counted_against_training_time(run_cli, tmp_path):
    callbacks = [{"class_path": f"lit_gpt2.callbacks.{name}"} for name in WATCHING]
    callbacks[0]["init_args"] = {"strategies": ["greedy"], "max_new_tokens": 4}
    config = tmp_path / "watch.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks}}))
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", epochs=2)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    cost = callback_cost(run)
    assert cost["rounds"] == 3  # before training, then after each of the 2 epochs
    per_round = [cost[f"{tag}, mean per round"] for tag in ("gen/seconds", "attn/seconds", "lens/seconds")]
    assert all(seconds > 0 for seconds in per_round)
    assert cost["callbacks, seconds in all"] == pytest.approx(3 * sum(per_round))
    assert cost["share of training time"] == pytest.approx(
        cost["callbacks, seconds in all"] / cost["training, seconds"]
    )
