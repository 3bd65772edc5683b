"""Genre control codes on the data side (docs/control-codes.md): which scripts get their code, and
that a code is given, never a target."""

import random

import torch


def coded_scripts(n_scripts: int, uncoded_fraction: float, seed: int) -> list[bool]:
    """Which scripts get their code: all but a seeded ``uncoded_fraction`` of them, so the model still
    writes without one."""
    rng = random.Random(seed)
    return [rng.random() >= uncoded_fraction for _ in range(n_scripts)]


def code_labels_masked(input_ids: torch.Tensor, code_ids: torch.Tensor) -> torch.Tensor:
    """Labels for a batch where the code tokens are no target (-100): the code is given, never
    predicted. As a target it is not text: it would teach the model to write codes after an
    end-of-text, and its loss (zero bytes) would count in the text's bits per byte."""
    return input_ids.masked_fill(torch.isin(input_ids, code_ids.to(input_ids.device)), -100)
