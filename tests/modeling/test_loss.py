import pytest
import torch

from lit_gpt2.modeling.loss import chunked_lm_loss


def _reference(hidden, weight, labels):
    logits = hidden @ weight.t()
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, weight.shape[0]), labels[:, 1:].reshape(-1), ignore_index=-100
    )


@pytest.mark.parametrize("chunk_size", [7, 64, 4096])
def test_same_loss_and_gradients_as_full_logits(chunk_size):
    torch.manual_seed(0)
    hidden = torch.randn(3, 17, 16, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(301, 16, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 301, (3, 17))
    labels[1, 4:9] = -100  # padding is not counted
    expected = _reference(hidden, weight, labels)
    expected_grads = torch.autograd.grad(expected, (hidden, weight))
    loss = chunked_lm_loss(hidden, weight, labels, chunk_size)
    grads = torch.autograd.grad(loss * 2.5, (hidden, weight))  # upstream gradients are honoured
    assert torch.allclose(loss, expected, atol=1e-12)
    for got, want in zip(grads, expected_grads):
        assert torch.allclose(got, 2.5 * want, atol=1e-12)
    with torch.no_grad():
        assert torch.allclose(chunked_lm_loss(hidden, weight, labels, chunk_size), expected, atol=1e-12)


def test_module_loss_is_the_same_with_and_without_chunking(tiny_config):
    from lit_gpt2.module import GPT2LitModule

    torch.manual_seed(0)
    chunked = GPT2LitModule(config=tiny_config, loss_chunk_size=16)
    plain = GPT2LitModule(config=tiny_config, loss_chunk_size=0)
    plain.load_state_dict(chunked.state_dict())
    chunked.eval(), plain.eval()
    batch = {"input_ids": torch.randint(0, 50257, (2, 24))}
    assert torch.allclose(chunked.shared_step(batch)[0], plain.shared_step(batch)[0], atol=1e-5)
