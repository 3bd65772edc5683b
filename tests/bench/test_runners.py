"""The benchmark compares like with like: the three runners do exactly the same training steps."""

import pytest

pytest.importorskip("accelerate", reason="Hugging Face Trainer needs accelerate (pip install -e '.[bench]')")

from bench.common import BenchConfig
from bench.runners import RUNNERS


def test_ours_raw_and_hf_runners_produce_the_same_losses(tmp_path):
    cfg = BenchConfig(steps=4, warmup=1, batch_size=2, cache_dir=str(tmp_path))
    results = {name: run(cfg).result(name) for name, run in RUNNERS.items()}
    reference = results["raw"].losses
    assert len(reference) == 4
    for name, result in results.items():
        assert result.losses == pytest.approx(reference, rel=1e-4), name
        assert result.tokens_per_second > 0
