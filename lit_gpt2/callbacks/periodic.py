"""The schedule the watching callbacks share: once before training (step 0; not again on resume), then
at every validation, every N optimizer steps or every N epochs; drawn on rank 0, with every rank joining
when the model is sharded; scalars to every logger, and the cost logged."""

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import lightning as L
import torch
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.callbacks.tensorboard import tensorboard_writer
from lit_gpt2.distributed import is_sharded, run_where_weights_are_whole
from lit_gpt2.errors import UserInputError
from lit_gpt2.module import GPT2LitModule, lit_module

C = TypeVar("C")


class PeriodicTensorBoardCallback(L.Callback):
    """Calls ``log_round`` on schedule; sends the scalars it returns, and its wall time as
    ``<seconds_tag>``, to every logger, and makes them monitorable (``EarlyStopping(monitor=...)``).

    ``log_round`` draws text and images to ``writer`` (TensorBoard, rank 0) and returns the scalars;
    it gets ``writer=None`` on ranks that only join the forward passes (sharded models) and where the
    run has no TensorBoard logger.

    Args:
        every_n_epochs: A round at the end of every N-th epoch instead of at every validation.
        every_n_steps: A round after every N-th optimizer step instead of at every validation.
    """

    seconds_tag = "seconds"

    def __init__(self, every_n_epochs: int | None = None, every_n_steps: int | None = None) -> None:
        for name, value in (("every_n_epochs", every_n_epochs), ("every_n_steps", every_n_steps)):
            if value is not None and value < 1:
                raise UserInputError(f"{name}={value} must be at least 1 (or null: a round at every validation)")
        if every_n_epochs is not None and every_n_steps is not None:
            raise UserInputError("set at most one of every_n_epochs and every_n_steps (neither: at every validation)")
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        self._last_round_step: int | None = None
        self._step_at_batch_start = 0
        self._charts: dict[str, tuple[Hashable, Any]] = {}  # tag -> (what it was built for, the chart)

    def log_round(
        self, trainer: L.Trainer, pl_module: GPT2LitModule, writer: SummaryWriter | None, sharded: bool
    ) -> dict[str, float]:
        raise NotImplementedError

    def kept_chart(self, tag: str, built_for: Hashable, build: Callable[[], C]) -> C:
        """The chart drawn under ``tag`` in an earlier round, when it was built for the same ``built_for``
        (its tokens, its shape), else a new one from ``build``: a round redraws its charts' data on
        frames kept from the round before (``lit_gpt2.plots``), the same pixels as new charts."""
        kept = self._charts.get(tag)
        if kept is None or kept[0] != built_for:
            kept = self._charts[tag] = (built_for, build())
        return kept[1]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 0:  # a resumed run logged this step's round before it stopped
            self._round(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        at_every_validation = self.every_n_epochs is None and self.every_n_steps is None
        if at_every_validation and not trainer.sanity_checking and trainer.state.fn == "fit":
            self._round(trainer, pl_module)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        self._step_at_batch_start = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        # Only a batch that ended with an optimizer step (gradient accumulation runs several per step).
        stepped = trainer.global_step != self._step_at_batch_start
        if self.every_n_steps and stepped and trainer.global_step % self.every_n_steps == 0:
            self._round(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._round(trainer, pl_module)

    def _round(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        step = trainer.global_step
        if step == self._last_round_step:
            return
        self._last_round_step = step
        sharded = is_sharded(trainer.strategy)
        module = lit_module(pl_module)
        scalars: dict[str, float] | None = None
        if trainer.is_global_zero or sharded:  # other ranks have nothing to draw and need not join
            start = time.perf_counter()
            writer = tensorboard_writer(trainer)
            scalars = run_where_weights_are_whole(
                trainer.strategy, module, lambda: self.log_round(trainer, module, writer, sharded)
            )
            scalars[self.seconds_tag] = time.perf_counter() - start
        # Every rank gets rank 0's values, so a monitor (EarlyStopping, ModelCheckpoint) decides alike on all.
        scalars = trainer.strategy.broadcast(scalars, src=0)
        assert scalars is not None  # rank 0 always has them
        for logger in trainer.loggers:  # they write on rank 0 only
            logger.log_metrics(scalars, step=step)
        trainer.callback_metrics.update({name: torch.tensor(value) for name, value in scalars.items()})


def first_validation_tokens(trainer: L.Trainer, n_tokens: int) -> list[int] | None:
    """The first ``n_tokens`` token ids of the validation blocks, in order (fewer if there are fewer):
    the same text every round. None without validation data."""
    loaders = trainer.val_dataloaders  # set once validation has run (the sanity check, say)
    datamodule = trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector, undeclared
    if loaders is None and datamodule is not None:
        loaders = datamodule.val_dataloader()
    loader = loaders[0] if isinstance(loaders, list | tuple) else loaders
    if loader is None or len(loader.dataset) == 0:
        return None
    tokens: list[int] = []
    for index in range(len(loader.dataset)):
        if len(tokens) >= n_tokens:
            break
        tokens += loader.dataset[index]["input_ids"].tolist()
    return tokens[:n_tokens]
