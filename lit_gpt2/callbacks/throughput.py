"""Lightning's ThroughputMonitor, told how to count a packed batch: tokens/s, FLOP/s and (on GPUs
whose peak Lightning knows) MFU under ``train/device/`` and ``validate/device/`` in TensorBoard."""

from typing import Any

from lightning.pytorch.callbacks import ThroughputMonitor


def _blocks(batch: dict[str, Any]) -> int:
    return batch["input_ids"].shape[0]


def _tokens(batch: dict[str, Any]) -> int:
    return batch["input_ids"].numel()


class TokenThroughputMonitor(ThroughputMonitor):
    """Throughput in blocks and tokens per second; FLOPs from the module's ``flops_per_batch``.

    Args:
        window_size: Batches averaged over for each logged value.
    """

    def __init__(self, window_size: int = 20) -> None:
        super().__init__(batch_size_fn=_blocks, length_fn=_tokens, window_size=window_size)
