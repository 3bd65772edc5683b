"""The one place callbacks find TensorBoard and decide whether this process draws."""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib.figure import Figure
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.plots import figure_to_array


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The run's TensorBoard writer on global rank 0; None elsewhere or when no TensorBoard logger is set."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def add_figure(writer: SummaryWriter, tag: str, figure: Figure, step: int) -> None:
    """Log a chart as an image, drawn by the Agg canvas (``add_figure`` would import pyplot to close it)."""
    writer.add_image(tag, figure_to_array(figure), step, dataformats="HWC")
