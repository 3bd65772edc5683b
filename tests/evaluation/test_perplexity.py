"""Strided perplexity (docs/strided-perplexity.md) against its definition on a tiny random model."""

import math

import pytest
import torch

from lit_gpt2.errors import UserInputError
from lit_gpt2.evaluation.perplexity import Window, strided_nll, strided_windows


@pytest.fixture
def stream() -> torch.Tensor:
    return torch.randint(0, 50257, (45,), generator=torch.Generator().manual_seed(1))


def test_windows_follow_the_worked_example_of_the_docs():
    # 10 tokens, context 4, stride 2: t1-t3, then two new tokens per window, each with 2+ tokens before it.
    assert strided_windows(10, context=4, stride=2) == [
        Window(0, 4, 3),
        Window(2, 6, 2),
        Window(4, 8, 2),
        Window(6, 10, 2),
    ]
    # stride == context: disjoint blocks, the first token of each unscored.
    assert strided_windows(10, context=4, stride=4) == [Window(0, 4, 3), Window(4, 8, 3), Window(8, 10, 1)]


@pytest.mark.parametrize(("n", "context", "stride"), [(45, 8, 1), (45, 8, 3), (45, 8, 7), (8, 8, 3), (9, 8, 5)])
def test_every_token_but_the_first_is_scored_once_when_windows_overlap(n, context, stride):
    windows = strided_windows(n, context, stride)
    scored = [i for w in windows for i in range(w.end - w.scored, w.end)]
    assert scored == list(range(1, n))
    assert all(w.end - w.begin <= context and w.end - w.scored > w.begin for w in windows)


def test_stride_equal_to_the_context_is_block_wise_perplexity(tiny_module, stream):
    model, context = tiny_module.model.eval(), 8
    result = strided_nll(model, stream, context=context, stride=context, batch_size=2)
    blocks = list(stream.split(context))  # 5 blocks of 8 and one of 5
    with torch.no_grad():
        per_block = [model(input_ids=b[None], labels=b[None]).loss * (len(b) - 1) for b in blocks]
    assert result.n_predicted == len(stream) - len(blocks) == result.predicted.sum()
    assert result.n_windows == len(blocks)
    assert result.nll_sum == pytest.approx(float(sum(per_block)), rel=1e-5)
    assert result.perplexity == pytest.approx(math.exp(float(sum(per_block)) / result.n_predicted), rel=1e-5)


def test_stride_one_equals_a_brute_force_loop_over_every_token(tiny_module, stream):
    model, context = tiny_module.model.eval(), 8
    result = strided_nll(model, stream, context=context, stride=1, batch_size=4)
    brute = 0.0
    with torch.no_grad():
        for i in range(1, len(stream)):
            before = stream[max(0, i - context + 1) : i]  # the context-1 tokens before t_i, fewer at the start
            logits = model(input_ids=before[None]).logits[0, -1]
            brute -= torch.log_softmax(logits.float(), -1)[stream[i]].item()
    assert result.n_predicted == len(stream) - 1
    assert result.nll_sum == pytest.approx(brute, rel=1e-5)


def test_batching_windows_does_not_change_the_sum(tiny_module, stream):
    one = strided_nll(tiny_module.model, stream, context=8, stride=3, batch_size=1)
    many = strided_nll(tiny_module.model, stream, context=8, stride=3, batch_size=5)
    assert many.nll_sum == pytest.approx(one.nll_sum, rel=1e-6) and many.n_predicted == one.n_predicted


@pytest.mark.parametrize("stride", [0, 9])
def test_a_stride_outside_one_to_the_context_is_refused(stride):
    with pytest.raises(UserInputError, match="between 1 and the context"):
        strided_windows(20, context=8, stride=stride)
