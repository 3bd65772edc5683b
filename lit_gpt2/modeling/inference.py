"""Side passes during training (samples, scores, probes) without disturbing it."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def inference_pass(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (dropout off) and inference mode inside; the model's training mode restored after, even on error.

    Inference mode rather than ``no_grad``: no autograd bookkeeping at all, which makes token-by-token
    generation of a small model a fifth faster on a CPU (the rounds' cost is mostly per-op overhead).
    What a side pass returns is for reading, never for a gradient."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)
