"""The one place callbacks find TensorBoard and decide whether this process draws."""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The run's TensorBoard writer on global rank 0; None elsewhere or when no TensorBoard logger is set."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None
