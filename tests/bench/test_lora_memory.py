"""bench/lora_memory.py on a CPU with a tiny model: the plumbing behind the GPU figures."""

import pytest

from bench.lora_memory import measure

pytest.importorskip("peft")


def test_lora_trains_a_small_share_of_the_weights_and_both_runs_report_speed_and_memory():
    full = measure("tiny", lora=False, device="cpu", batch_size=2, block_size=32, steps=2, rank=4)
    lora = measure("tiny", lora=True, device="cpu", batch_size=2, block_size=32, steps=2, rank=4)
    assert full["trainable_parameters"] == full["parameters"]
    # rank 4 on c_attn (64 -> 192) in 2 layers: 2 x 4 x (64 + 192) adapter weights
    assert lora["trainable_parameters"] == 2 * 4 * (64 + 192)
    assert all(run["tokens_per_second"] > 0 and run["peak_memory_mib"] > 0 for run in (full, lora))
    assert (lora["mode"], full["mode"]) == ("LoRA r=4", "full")
