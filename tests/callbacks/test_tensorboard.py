from types import SimpleNamespace

import torch
from lightning.pytorch.strategies import FSDPStrategy, SingleDeviceStrategy
from torch import nn

from lit_gpt2.callbacks.tensorboard import run_side_pass


class GathersOnlyInForward(nn.Module):
    """Stands in for FSDP's root unit, whose own weights are whole only while its forward runs."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.gathered = False

    def forward(self, *args):
        self.gathered = True
        try:
            return self.inner(*args)
        finally:
            self.gathered = False


def test_sharded_side_passes_run_inside_the_wrappers_forward(tiny_module):
    wrapper = GathersOnlyInForward(tiny_module)
    strategy = FSDPStrategy()
    strategy.model = wrapper
    forward = tiny_module.forward
    assert run_side_pass(SimpleNamespace(strategy=strategy), tiny_module, lambda: wrapper.gathered) is True
    assert tiny_module.forward == forward  # the redirection is undone


def test_unsharded_side_passes_run_directly(tiny_module):
    wrapper = GathersOnlyInForward(tiny_module)
    strategy = SingleDeviceStrategy(torch.device("cpu"))
    strategy.model = wrapper
    assert run_side_pass(SimpleNamespace(strategy=strategy), tiny_module, lambda: wrapper.gathered) is False
