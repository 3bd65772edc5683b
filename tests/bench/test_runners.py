"""The benchmark compares like with like: the three runners do exactly the same training steps."""

import pytest

pytest.importorskip("accelerate", reason="Hugging Face Trainer needs accelerate (pip install -e '.[bench]')")

from bench.common import BenchConfig
from bench.runners import RUNNERS


def test_ours_raw_and_hf_runners_produce_the_same_losses(tmp_path):
    cfg = BenchConfig(steps=4, warmup=1, batch_size=2, cache_dir=str(tmp_path))
    results = {name: RUNNERS[name](cfg).result(name) for name in ("ours", "ours-loop", "raw", "hf")}
    reference = results["raw"].losses
    assert len(reference) == 4
    for name, result in results.items():
        assert result.losses == pytest.approx(reference, rel=1e-4), name
        assert result.tokens_per_second > 0


def test_nanogpt_runs_the_same_steps_from_the_same_weights(tmp_path):
    """With GPT-2's biases nanoGPT computes our function (GELU exact instead of tanh-approximated), so the
    losses agree step by step; without biases it starts from the same loss (GPT-2's biases start at zero)."""
    from bench.runners import NANOGPT_DIR

    if not (NANOGPT_DIR / "model.py").exists():
        pytest.skip(f"nanoGPT's model.py is not in {NANOGPT_DIR}")
    cfg = BenchConfig(steps=4, warmup=1, batch_size=2, cache_dir=str(tmp_path))
    ours = RUNNERS["ours"](cfg).result("ours").losses
    with_bias = RUNNERS["nanogpt-bias"](cfg).result("nanogpt-bias").losses
    without = RUNNERS["nanogpt"](cfg).result("nanogpt").losses
    assert with_bias == pytest.approx(ours, rel=1e-3)
    assert without[0] == pytest.approx(ours[0], rel=1e-4) and without != pytest.approx(ours, rel=1e-6)


def test_a_fitted_vocabulary_reaches_model_and_data(tmp_path):
    from bench.common import build

    module, data = build(BenchConfig(vocab=300, cache_dir=str(tmp_path)))
    assert len(module.tokenizer) == 300 == module.model.config.vocab_size
    assert max(int(data.splits["train"][i]["input_ids"].max()) for i in range(len(data.splits["train"]))) < 300


def test_interleaved_steps_are_the_separate_runners_steps(tmp_path):
    """Taking turns step by step, each in its own process with its own model, optimizer and schedule:
    lit-gpt2's losses are those of its separate run, and nanoGPT with GPT-2's biases reaches the same
    final loss."""
    from bench.interleaved import interleaved
    from bench.runners import NANOGPT_DIR

    if not (NANOGPT_DIR / "model.py").exists():
        pytest.skip(f"nanoGPT's model.py is not in {NANOGPT_DIR}")
    cfg = BenchConfig(steps=6, warmup=1, batch_size=2, cache_dir=str(tmp_path))
    report = interleaved(cfg, runners=("ours-loop", "nanogpt-bias"))  # two processes keep the test short
    alone = RUNNERS["ours-loop"](cfg).result("ours-loop")
    assert report["summary"]["ours-loop"]["final_loss"] == pytest.approx(alone.final_loss, rel=1e-6)
    assert report["same_final_loss"]
    assert set(report["ratios"]) == {"ours-loop/nanogpt-bias"}
    assert all(s["step_ms"] > 0 and s["tokens_per_second"] > 0 for s in report["summary"].values())
