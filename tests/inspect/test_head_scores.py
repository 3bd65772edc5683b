"""Head scores against hand-built patterns and a hand-built two-layer induction circuit
(docs/head-scores.md)."""

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from lit_gpt2.inspect.head_scores import (
    detection_patterns,
    head_score,
    head_scores,
    repeated_random_tokens,
)
from lit_gpt2.inspect.probe import eager_attention

T = 6


def _uniform(length: int) -> torch.Tensor:
    causal = torch.tril(torch.ones(length, length))
    return causal / causal.sum(-1, keepdim=True)


def test_the_docs_worked_example():
    # docs/head-scores.md: tokens [0, 7, 8, 7, 8], BOS first.
    tokens = torch.tensor([0, 7, 8, 7, 8])
    patterns = detection_patterns(tokens)
    assert patterns["duplicate_token"].nonzero().tolist() == [[3, 1], [4, 2]]
    assert patterns["induction"].nonzero().tolist() == [[3, 2], [4, 3]]
    assert patterns["previous_token"].nonzero().tolist() == [[1, 0], [2, 1], [3, 2], [4, 3]]
    uniform = _uniform(5)
    # Without the first key, rows 1..4 keep 1/2, 2/3, 3/4, 4/5 of their weight; the previous-token cells
    # kept are (2,1) 1/3, (3,2) 1/4, (4,3) 1/5.
    kept = 1 / 2 + 2 / 3 + 3 / 4 + 4 / 5
    assert head_score(uniform, patterns["previous_token"]).item() == pytest.approx((1 / 3 + 1 / 4 + 1 / 5) / kept)
    assert head_score(uniform, patterns["induction"]).item() == pytest.approx((1 / 4 + 1 / 5) / kept)
    assert head_score(uniform, patterns["duplicate_token"]).item() == pytest.approx((1 / 4 + 1 / 5) / kept)


def test_a_perfect_head_of_each_kind_scores_one():
    tokens = torch.tensor(repeated_random_tokens(8, range(50), bos_token_id=0, seed=1))
    for kind, pattern in detection_patterns(tokens).items():
        ideal = pattern.clone()
        ideal[ideal.sum(-1) == 0, 0] = 1.0  # rows with nothing to find park on the first token
        ideal = ideal / ideal.sum(-1, keepdim=True)
        assert head_score(ideal, pattern).item() == pytest.approx(1.0), kind


def test_a_head_all_on_the_first_token_scores_zero():
    sink = torch.zeros(T, T)
    sink[:, 0] = 1.0
    assert head_score(sink, detection_patterns(torch.arange(T))["previous_token"]).item() == 0.0


def test_repeated_random_tokens_are_seeded_and_repeat_once():
    tokens = repeated_random_tokens(10, range(30), bos_token_id=29, seed=3)
    assert tokens == repeated_random_tokens(10, range(30), bos_token_id=29, seed=3)
    assert tokens != repeated_random_tokens(10, range(30), bos_token_id=29, seed=4)
    assert tokens[0] == 29 and 29 not in tokens[1:] and tokens[1:11] == tokens[11:] and len(tokens) == 21
    # Drawn only from the candidates given (tokens the model has seen, say).
    assert set(repeated_random_tokens(10, [3, 5, 7], bos_token_id=0)[1:]) <= {3, 5, 7}


V, P = 16, 32  # token ids 0..15 one-hot in dims 0..15, positions one-hot in dims 16..47, dims 48..63 free


def _induction_model() -> GPT2LMHeadModel:
    """Two layers, two heads each, weights set by hand.

    Layer 0 head 0 is a previous-token head (query: position i, key: position j + 1) whose value is
    the token one-hot, written by its output projection into dims 48..63: "the token before me".
    Layer 1 head 0 is an induction head: its query is the current token and its key "the token before
    me", so token i attends to the position right after an earlier copy of itself. Every other head
    has zero query and key weights (uniform attention); the MLPs are zero.
    """
    config = GPT2Config(
        n_layer=2, n_head=2, n_embd=64, n_positions=P, vocab_size=V, bos_token_id=0, eos_token_id=0, attn_pdrop=0.0
    )
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for parameter in model.transformer.h.parameters():
            if parameter.dim() == 2:
                parameter.zero_()
        for block in model.transformer.h:
            for name, parameter in block.named_parameters():
                if name.endswith("bias") and "ln" not in name:
                    parameter.zero_()
        model.transformer.wte.weight.zero_()
        model.transformer.wte.weight[:, :V] = torch.eye(V)
        model.transformer.wpe.weight.zero_()
        model.transformer.wpe.weight[:, V : V + P] = torch.eye(P)
        layer0, layer1 = model.transformer.h[0].attn, model.transformer.h[1].attn
        # c_attn: (64, 192) = [query 64 | key 64 | value 64]; head 0 uses columns 0..31 of each.
        for d in range(P - 1):
            layer0.c_attn.weight[V + d + 1, d + 1] = 3.0  # query: position i in head dim i
            layer0.c_attn.weight[V + d, 64 + d + 1] = 3.0  # key: position j in head dim j + 1, so i meets i - 1
        for t in range(V):
            layer0.c_attn.weight[t, 128 + t] = 1.0  # value: the token
            layer0.c_proj.weight[t, 48 + t] = 1.0  # into "the token before me"
            layer1.c_attn.weight[t, t] = 3.0  # query: my token
            layer1.c_attn.weight[48 + t, 64 + t] = 3.0  # key: the token before that position
    return model


def test_a_hand_built_induction_circuit_is_scored_by_kind():
    tokens = torch.tensor(repeated_random_tokens(12, range(V), bos_token_id=0, seed=0))
    model = _induction_model()
    with torch.no_grad(), eager_attention(model):
        attentions = model(tokens[None], output_attentions=True).attentions
    scores = head_scores(attentions, tokens)
    previous, induction = scores["previous_token"], scores["induction"]
    assert previous[0, 0] > 0.9 and previous[0, 0] == previous.max()
    assert induction[1, 0] > 0.5 and induction[1, 0] == induction.max()
    assert induction[1, 0] > 3 * induction[1, 1]  # far above the uniform head beside it
    assert previous[1, 0] < 0.3
