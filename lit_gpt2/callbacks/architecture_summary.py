"""The run's own architecture (components, parameters, cost per token) as TensorBoard text at fit start."""

import lightning as L

from lit_gpt2.callbacks.tensorboard import tensorboard_writer
from lit_gpt2.inspect.anatomy import meta_gpt2
from lit_gpt2.inspect.architecture_report import describe
from lit_gpt2.module import lit_module


class ArchitectureSummaryCallback(L.Callback):
    """Log ``model/architecture``: the same report as ``lit-gpt2 architecture``, for this run's model.

    Args:
        enabled: Set false to skip it.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if not self.enabled or writer is None:
            return
        # Built on the meta device from the config: no copy of the weights, whatever the strategy.
        markdown, _ = describe(meta_gpt2(lit_module(pl_module).model.config), "this run's model")
        writer.add_text("model/architecture", markdown, trainer.global_step)
