"""What the rest of the package needs to know about the strategy a run uses."""

from collections.abc import Callable
from typing import TypeVar, cast

import lightning as L
import torch.distributed as dist
from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, ModelParallelStrategy, Strategy

T = TypeVar("T")


def is_sharded(strategy: Strategy) -> bool:
    """True when model weights are split across ranks: every rank must join each forward pass, and
    the weights are whole only inside the strategy's own forward."""
    return isinstance(strategy, FSDPStrategy | DeepSpeedStrategy | ModelParallelStrategy)


def run_where_weights_are_whole(strategy: Strategy, module: L.LightningModule, fn: Callable[[], T]) -> T:
    """Run ``fn`` (forward passes outside training: samples, attention probes) where the weights are whole.

    Under FSDP the root unit's own weights (embeddings, final norm) are gathered only inside the
    wrapper's forward, so a sharded model runs ``fn`` through the strategy's forward redirection, the
    path Lightning's own ``training_step`` takes (DeepSpeed's engine and FSDP2's hooks likewise).
    Unsharded models run it directly: under DDP every weight is local.

    ``Strategy._forward_redirection`` is private Lightning API; this is its one use in the project, and
    ``tests/test_distributed.py`` fails loudly if Lightning moves or changes it.
    """
    if not is_sharded(strategy):
        return fn()
    wrapper = strategy.model  # the strategy's wrapper of ``module``, set up before any callback runs
    assert wrapper is not None
    # Typed for training_step's outputs; it returns whatever the redirected method ("side_pass": fn) returns.
    return cast(T, strategy._forward_redirection(wrapper, module, "side_pass", fn))


def close_process_group() -> None:
    """End the run's process group while every rank is still alive.

    Lightning destroys only NCCL groups at exit; a Gloo group (DDP on CPUs) left to interpreter
    shutdown can abort the process ("terminate called without an active exception") after a
    successful run. The barrier keeps one rank from tearing down while another still talks to it.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
