"""bench.fit_timeline: a whole fit's wall time split into phases that add up, written as a table."""

import gc
import json
import time

import pytest

from bench import fit_timeline
from conftest import tiny_fit_args
from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.datamodule import MovieScriptsDataModule


def test_phases_add_up_to_the_wall_time_and_the_wrapped_methods_are_restored(tmp_path):
    originals = (Corpus.fitted_tokenizer, MovieScriptsDataModule.prepare_data)
    out = tmp_path / "timeline.md"
    args = tiny_fit_args(
        tmp_path,
        "--trainer.callbacks+=lit_gpt2.callbacks.SampleGenerationCallback",
        "--trainer.callbacks.strategies=[greedy]",
        "--trainer.callbacks.max_new_tokens=4",
        "--data.train_tokenizer=300",
        "--trainer.callbacks+=conftest.SleepAtBatchEnd",
        "--trainer.callbacks+=conftest.CollectAtBatchEnd",
        epochs=1,
    )[1:]  # without "fit"
    now = time.perf_counter()
    report = fit_timeline.main(["--out", str(out), "--", *args], started=now, imported=now)

    phases = report["phases"]
    assert phases["optimizer steps"] > 0 and phases["validation"] > 0 and phases["tokenizer fit or read"] > 0
    assert all(seconds >= 0 for seconds in phases.values())  # "everything else" is what the clocks left
    assert sum(phases.values()) == pytest.approx(report["wall_seconds"])
    assert report["inside"]["callback SampleGenerationCallback"] > 0  # its rounds, before and after the epoch
    # A callback's hook within a batch (0.1 s at each batch's end, more than a tiny model's step) is not the step.
    assert 0 < phases["optimizer steps"] < report["inside"]["callback SleepAtBatchEnd"]
    # Collections are timed wherever they run; those inside a batch are told apart, and the clock is gone after.
    in_batches = report["inside"]["garbage collection within training batches (steps and their hooks)"]
    assert 0 < in_batches <= report["inside"]["garbage collection (in every phase)"]
    assert not any(isinstance(callback, fit_timeline.GarbageClock) for callback in gc.callbacks)
    assert report["outside_steps_share"] == pytest.approx(1 - phases["optimizer steps"] / report["wall_seconds"])
    assert json.loads(out.with_suffix(".json").read_text()) == report
    table = out.read_text()
    assert "| optimizer steps |" in table and f"{report['outside_steps_share']:.1%}" in table
    assert (Corpus.fitted_tokenizer, MovieScriptsDataModule.prepare_data) == originals
