"""SLURM's requeue signal answered between batches, where Lightning's answer cannot deadlock.

Lightning answers the requeue signal (``SLURMEnvironment(auto_requeue=True)``; SLURM sends it before
the time limit) inside the signal handler: it flushes the loggers, writes ``hpc_ckpt_N.ckpt`` and runs
``scontrol requeue``, wherever the signal lands. The TensorBoard logger is flushed after every logged
step, under a lock: a signal landing inside that flush makes the handler's own flush wait for the lock
the interrupted code holds, for ever. The job hangs until SLURM kills it, with no checkpoint written
and no requeue (seen in this project's test of the requeue, about one run in three on a busy machine).
"""

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import lightning as L
from lightning.pytorch.trainer.connectors.signal_connector import _HandlersCompose

_REQUEUE_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)  # SLURMEnvironment's requeue_signal: USR1 unless told


class DeferredRequeueSignal(L.Callback):
    """Records the requeue signal and runs Lightning's own handler for it at the next batch end (in
    training or validation), epoch end or the end of training: the same checkpoint and requeue, a batch
    later, with no lock held. With several processes, a process that got the signal tells the others at
    each batch end (one small all-reduce a batch, only while the requeue handler is installed), so every
    rank saves at the same step, as the checkpoint's barriers need."""

    def __init__(self) -> None:
        # Lightning's handler of each signal deferred (a _HandlersCompose: called as signum, frame)
        self._handlers: dict[int, Callable[[int, Any], Any]] = {}
        self._pending: int | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread (Lightning set none either)
        for signum in _REQUEUE_SIGNALS:
            handler = signal.getsignal(signum)
            if isinstance(handler, _HandlersCompose):  # set by Lightning for auto-requeue only
                self._handlers[signum] = handler
                signal.signal(signum, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self._pending = signum

    def _answer_pending(self, trainer: L.Trainer) -> None:
        if not self._handlers:
            return
        pending = self._pending is not None
        if trainer.world_size > 1:
            pending = trainer.strategy.reduce_boolean_decision(pending, all=False)
        if pending:
            signum = self._pending if self._pending is not None else next(iter(self._handlers))
            self._pending = None
            self._handlers[signum](signum, None)

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        self._answer_pending(trainer)

    def on_validation_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if not trainer.sanity_checking:
            self._answer_pending(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._answer_pending(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._answer_pending(trainer)
        for signum, handler in self._handlers.items():  # Lightning restores its predecessors after this
            if signal.getsignal(signum) == self._record:
                signal.signal(signum, handler)
        self._handlers = {}
