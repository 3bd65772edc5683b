"""What the rest of the package needs to know about the strategy a run uses."""

from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, ModelParallelStrategy, Strategy


def is_sharded(strategy: Strategy) -> bool:
    """True when model weights are split across ranks: every rank must join each forward pass, and
    the weights are whole only inside the strategy's own forward."""
    return isinstance(strategy, FSDPStrategy | DeepSpeedStrategy | ModelParallelStrategy)
