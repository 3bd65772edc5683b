"""The one place callbacks find TensorBoard, decide whether this process draws, and reach sharded weights."""

from collections.abc import Callable
from typing import TypeVar

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.distributed import is_sharded

T = TypeVar("T")


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The run's TensorBoard writer on global rank 0; None elsewhere or when no TensorBoard logger is set."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def run_side_pass(trainer: L.Trainer, pl_module: L.LightningModule, fn: Callable[[], T]) -> T:
    """Run ``fn`` (forward passes outside training) where the weights are whole.

    Under FSDP the root unit's own weights (embeddings, final norm) are gathered only inside the
    wrapper's forward, so a sharded model runs ``fn`` through the strategy's forward redirection, the
    path Lightning's own ``training_step`` takes (DeepSpeed's engine and FSDP2's hooks likewise).
    Unsharded models run it directly: under DDP every weight is local, and only rank 0 does side passes.
    """
    if not is_sharded(trainer.strategy):
        return fn()
    return trainer.strategy._forward_redirection(trainer.strategy.model, pl_module, "side_pass", fn)
