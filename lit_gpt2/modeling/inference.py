"""Side passes during training (samples, scores, probes) without disturbing it."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def inference_pass(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (dropout off) and no gradients inside; the model's training mode restored after, even on error."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
