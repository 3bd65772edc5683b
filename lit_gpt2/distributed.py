"""What the rest of the package needs to know about the strategy a run uses."""

import torch.distributed as dist
from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, ModelParallelStrategy, Strategy


def is_sharded(strategy: Strategy) -> bool:
    """True when model weights are split across ranks: every rank must join each forward pass, and
    the weights are whole only inside the strategy's own forward."""
    return isinstance(strategy, FSDPStrategy | DeepSpeedStrategy | ModelParallelStrategy)


def close_process_group() -> None:
    """End the run's process group while every rank is still alive.

    Lightning destroys only NCCL groups at exit; a Gloo group (DDP on CPUs) left to interpreter
    shutdown can abort the process ("terminate called without an active exception") after a
    successful run. The barrier keeps one rank from tearing down while another still talks to it.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
