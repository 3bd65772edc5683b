import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from lit_gpt2.inspect.probe import attention_implementation, eager_attention, probe_attention
from lit_gpt2.inspect.statistics import attention_statistics, classify_heads
from lit_gpt2.modeling.tokenizer import load_tokenizer

TEXTS = ["INT. DINER - NIGHT\n\nMARGO\nKitchen closed.", "DEAN\nHi."]


def test_attention_is_causal_rows_sum_to_one_and_eager_is_restored(tiny_module):
    model = tiny_module.model
    assert attention_implementation(model) == "sdpa"
    probe = probe_attention(model, tiny_module.tokenizer, TEXTS)
    assert attention_implementation(model) == "sdpa"
    assert len(probe.attentions) == model.config.n_layer
    for attention in probe.attentions:
        assert torch.count_nonzero(torch.triu(attention, diagonal=1)) == 0
        real = probe.attention_mask.bool()
        rows = attention.sum(-1).permute(0, 2, 1)[real]
        assert torch.allclose(rows, torch.ones_like(rows), atol=1e-5)
    assert probe.tokens[1][0] == "<|endoftext|>" and "".join(probe.tokens[1][1:]) == TEXTS[1]


def test_eager_switch_is_restored_even_when_the_probe_fails(tiny_module):
    model = tiny_module.model
    with pytest.raises(RuntimeError, match="boom"), eager_attention(model):
        assert attention_implementation(model) == "eager"
        raise RuntimeError("boom")
    assert attention_implementation(model) == "sdpa"


def _previous_token_model() -> GPT2LMHeadModel:
    """One layer, two heads: weights set by hand so head 0 attends to the previous token.

    Hidden states are the position embeddings alone (one-hot in the first 16 dimensions); head 0's
    query is the position and its key the position shifted by one, so query i matches key i-1. Head 1
    has zero query and key weights, so it attends uniformly.
    """
    config = GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=16, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        model.transformer.wte.weight.zero_()
        model.transformer.wpe.weight.zero_()
        model.transformer.wpe.weight[:, :16] = torch.eye(16)
        weight = torch.zeros(32, 96)
        for d in range(16):
            weight[d, d] = 2.0  # head 0 query = position
        for d in range(15):
            weight[d, 32 + d + 1] = 1.0  # head 0 key = position + 1
        attn = model.transformer.h[0].attn.c_attn
        attn.weight.copy_(weight)
        attn.bias.zero_()
    return model


def test_hand_built_previous_token_head_is_detected():
    tokenizer = load_tokenizer("gpt2")
    probe = probe_attention(_previous_token_model(), tokenizer, ["MARGO walks to the counter slowly."])
    stats = {k: v[None] for k, v in attention_statistics(probe.attentions[0], probe.attention_mask).items()}
    assert stats["previous_token_mass"][0, 0] > 0.95
    classes = classify_heads(stats)
    assert classes["previous_token"] == [(0, 0)]
    assert classes["broad"] == [(0, 1)]
