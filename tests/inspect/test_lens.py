"""Logit lens and surprisal (docs/logit-lens-and-surprisal.md)."""

import math

import pytest
import torch

from lit_gpt2.inspect.lens import lens_pass, logit_lens, surprisal_pass, token_surprisal


def _ids(tiny_module, text: str = "INT. DINER - NIGHT\n\nMARGO\nKitchen closed at ten.") -> list[int]:
    return tiny_module.tokenizer(text)["input_ids"]


def test_the_last_row_of_the_lens_is_the_models_own_prediction(tiny_module):
    ids = _ids(tiny_module)
    result = lens_pass(tiny_module.model, ids)
    with torch.no_grad():
        out = tiny_module.model.eval()(torch.tensor([ids]), labels=torch.tensor([ids]))
    probs = out.logits[0].softmax(-1)
    top_probs, top_ids = probs.max(-1)
    lens = result.lens
    assert lens.top_ids.shape == (tiny_module.model.config.n_layer + 1, len(ids))
    assert torch.equal(lens.top_ids[-1], top_ids)
    assert torch.allclose(lens.top_probs[-1], top_probs, atol=1e-6)
    assert lens.losses[-1].item() == pytest.approx(out.loss.item(), rel=1e-5)
    assert lens.row_names == ["embed", "layer0", "layer1"]


def test_earlier_rows_apply_the_final_norm_to_the_residual_stream():
    hidden = [torch.tensor([[[3.0, 1.0], [0.0, 2.0]]]), torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])]
    unembedding = torch.eye(2)
    doubled = logit_lens(hidden, lambda h: 2 * h, unembedding, torch.tensor([0, 1]))
    # Row 0 went through the "norm" (x2), the last row did not.
    assert doubled.top_ids.tolist() == [[0, 1], [0, 1]]
    assert doubled.top_probs[0, 0].item() == pytest.approx(torch.tensor([6.0, 2.0]).softmax(0)[0].item())
    assert doubled.top_probs[1, 0].item() == pytest.approx(torch.tensor([1.0, 0.0]).softmax(0)[0].item())
    # One true next token (1) after position 0: the loss is its cross-entropy under each row.
    assert doubled.losses[1].item() == pytest.approx(-torch.tensor([1.0, 0.0]).log_softmax(0)[1].item())


def test_surprisal_sums_to_the_passage_nll(tiny_module):
    ids = _ids(tiny_module)
    result = lens_pass(tiny_module.model, ids)
    with torch.no_grad():
        loss = tiny_module.model.eval()(torch.tensor([ids]), labels=torch.tensor([ids])).loss
    assert len(result.surprisal_bits) == len(ids) - 1
    assert result.surprisal_bits.sum().item() * math.log(2) == pytest.approx(loss.item() * (len(ids) - 1), rel=1e-5)


def test_surprisal_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75], [1.0, 1.0, 1.0]]))
    assert token_surprisal(logits, torch.tensor([0, 1, 2])).tolist() == pytest.approx([2.0, 0.415037], rel=1e-5)


def test_the_surprisal_pass_gives_the_lens_pass_surprisal(tiny_module):
    ids = _ids(tiny_module)
    read_ids, bits = surprisal_pass(tiny_module.model, ids)
    full = lens_pass(tiny_module.model, ids)
    assert torch.equal(read_ids, full.input_ids)
    assert torch.allclose(bits, full.surprisal_bits, atol=1e-6)
