import pytest
import torch

from lit_gpt2.modeling.inference import inference_pass


@pytest.mark.parametrize("training", [True, False])
def test_eval_and_no_grad_inside_and_the_mode_restored_even_on_error(training):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)).train(training)
    with pytest.raises(RuntimeError, match="boom"), inference_pass(model):
        assert not model.training and not torch.is_grad_enabled()
        assert not model(torch.ones(1, 2)).requires_grad
        raise RuntimeError("boom")
    assert model.training is training and torch.is_grad_enabled()
