"""The schedule the watching callbacks share: once before training (step 0; not again on resume), then
every N epochs, drawn on rank 0, with every rank joining when the model is sharded, and the cost logged."""

import time

import lightning as L
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.callbacks.tensorboard import run_side_pass, tensorboard_writer
from lit_gpt2.distributed import is_sharded
from lit_gpt2.errors import UserInputError


class PeriodicTensorBoardCallback(L.Callback):
    """Calls ``log_round`` on schedule and logs its wall time as ``<seconds_tag>``.

    ``log_round`` gets ``writer=None`` on ranks that must only join the forward passes (sharded models).
    """

    seconds_tag = "seconds"

    def __init__(self, every_n_epochs: int) -> None:
        if every_n_epochs < 1:
            raise UserInputError(f"every_n_epochs={every_n_epochs} must be at least 1")
        self.every_n_epochs = every_n_epochs

    def log_round(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter | None, sharded: bool
    ) -> None:
        raise NotImplementedError

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 0:  # a resumed run logged this step's round before it stopped
            self._round(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._round(trainer, pl_module)

    def _round(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        sharded = is_sharded(trainer.strategy)
        writer = tensorboard_writer(trainer)
        if writer is None and not sharded:
            return  # other ranks have nothing to draw and need not join the forward passes
        start = time.perf_counter()
        run_side_pass(trainer, pl_module, lambda: self.log_round(trainer, pl_module, writer, sharded))
        if writer is not None:
            writer.add_scalar(self.seconds_tag, time.perf_counter() - start, trainer.global_step)
