"""bench/memory.py with a tiny model: both modes train and report speed and memory."""

from bench.memory import measure


def test_both_modes_report_time_and_memory_of_the_same_model():
    off = measure("tiny", checkpointing=False, device="cpu", batch_size=2, block_size=32, steps=1)
    on = measure("tiny", checkpointing=True, device="cpu", batch_size=2, block_size=32, steps=1)
    assert off["parameters"] == on["parameters"] and (off["gradient_checkpointing"], on["gradient_checkpointing"]) == (
        False,
        True,
    )
    assert all(
        r["seconds_per_step"] > 0 and r["peak_memory_mib"] >= r["memory_before_first_step_mib"] > 0 for r in (off, on)
    )
