"""Sliding-window (strided) perplexity of a whole token stream, as the GPT-2 paper and the transformers
documentation evaluate it (docs/strided-perplexity.md).

A model with a context of C tokens cannot read a long text at once. Cutting the text into disjoint
blocks of C scores the first tokens of every block with almost no context; sliding a C-token window by
``stride`` tokens and scoring only the tokens that the previous window did not reach gives every token
(after the first C) at least ``C - stride`` tokens of context.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

import torch
from torch import nn

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.inference import inference_pass


@dataclass(frozen=True)
class Window:
    """Tokens ``[begin, end)`` read together; the last ``scored`` of them are scored."""

    begin: int
    end: int
    scored: int


def strided_windows(n_tokens: int, context: int, stride: int) -> list[Window]:
    """The windows of ``context`` tokens, advancing by ``stride``, that strided perplexity reads.

    Each window scores the tokens the previous one did not reach (``end - prev_end``), except that a
    window's first token has nothing before it in the window and is never scored: with ``stride <
    context`` every token but the stream's first is scored exactly once; with ``stride == context`` (disjoint
    blocks) the first token of every block goes unscored, as in block-wise perplexity.
    """
    if not 1 <= stride <= context:
        raise UserInputError(
            f"stride={stride} must be between 1 and the context of {context} tokens (e.g. {context // 2})"
        )
    windows, prev_end = [], 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + context, n_tokens)
        windows.append(Window(begin, end, min(end - prev_end, end - begin - 1)))
        prev_end = end
        if end == n_tokens:
            break
    return windows


@dataclass(frozen=True)
class StridedNLL:
    """The total next-token NLL of a stream and what it was summed over."""

    nll_sum: float  # nats
    n_predicted: int
    n_windows: int
    predicted: torch.Tensor  # bool, one per token of the stream: was it scored?

    @property
    def perplexity(self) -> float:
        return float(torch.tensor(self.nll_sum / max(1, self.n_predicted)).exp())


def strided_nll(
    model: nn.Module,
    token_ids: torch.Tensor,
    context: int,
    stride: int,
    batch_size: int = 1,
    progress: Callable[[int], None] | None = None,
) -> StridedNLL:
    """Sum of next-token NLLs (nats) over ``token_ids`` (1-D) read in strided windows (``strided_windows``).

    ``model`` is a causal LM whose forward takes ``input_ids`` and ``logits_to_keep`` (transformers'
    ``GPT2LMHeadModel``, wrapped or not); only the scored positions' logits are computed, in float32.
    Windows of the same shape are read ``batch_size`` at a time; ``progress`` is called with the number
    of windows each batch finished.
    """
    if token_ids.ndim != 1:
        raise ValueError(f"token_ids must be 1-D, got shape {tuple(token_ids.shape)}")
    windows = strided_windows(len(token_ids), context, stride)
    device = next(model.parameters()).device
    ids = token_ids.to(device)
    predicted = torch.zeros(len(token_ids), dtype=torch.bool)
    total = torch.zeros((), dtype=torch.float64, device=device)
    with inference_pass(model):
        for batch in _batches(windows, batch_size):
            length, scored = batch[0].end - batch[0].begin, batch[0].scored
            if scored:
                inputs = torch.stack([ids[w.begin : w.end] for w in batch])
                # Logits of the scored tokens' predecessors: positions length-scored-1 .. length-2.
                logits = model(input_ids=inputs, logits_to_keep=scored + 1).logits[:, :-1].float()
                targets = inputs[:, length - scored :]
                # Classes last, rows flattened: the (batch, vocab, tokens) view is several times slower on CPUs.
                nll = nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"
                )
                total += nll.double()
                for w in batch:
                    predicted[w.end - scored : w.end] = True
            if progress is not None:
                progress(len(batch))
    return StridedNLL(float(total), sum(w.scored for w in windows), len(windows), predicted)


def _batches(windows: list[Window], batch_size: int) -> Iterator[list[Window]]:
    """Consecutive windows of equal length and scored count, at most ``batch_size`` at a time."""
    for _, group in groupby(windows, key=lambda w: (w.end - w.begin, w.scored)):
        same = list(group)
        for start in range(0, len(same), max(1, batch_size)):
            yield same[start : start + batch_size]
