"""Two CPU processes (DDP over gloo) through the real command: callbacks log once, perplexity is exact;
side passes where the weights are whole; the process group closed cleanly."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import yaml
from lightning.pytorch.strategies import FSDPStrategy, SingleDeviceStrategy, Strategy
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from conftest import REPO, printed_val_ppl, tiny_fit_args
from lit_gpt2.distributed import close_process_group, run_where_weights_are_whole

CALLBACKS = {
    "trainer": {
        "callbacks": [
            {
                "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
                "init_args": {"max_new_tokens": 4, "strategies": ["greedy"]},
            },
            {"class_path": "lit_gpt2.callbacks.AttentionHeatmapCallback"},
        ]
    }
}


DDP = ("--trainer.devices=2", "--trainer.strategy=ddp")


def _lit_gpt2(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    # A real process: Lightning's DDP launcher re-runs this command line once per extra rank.
    return subprocess.run(
        [sys.executable, "-m", "lit_gpt2", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )


def _whole_val_split_args(root: Path, *extra: str, **kwargs) -> list[str]:
    """``tiny_fit_args`` validating the whole validation split of 2% of the scripts: 139 blocks of 32
    tokens, so the two ranks' shares differ by one. The fit and the single-process validate both take
    their data arguments from here: the same split."""
    args = [a for a in tiny_fit_args(root, *extra, **kwargs) if not a.startswith("--trainer.limit_val_batches")]
    return [*args, "--data.val_fraction=0.02"]


@pytest.fixture(scope="module")
def ddp_fit(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One ``fit`` by two CPU processes with the watching callbacks, building its own data cache, that
    validates the whole validation split at its only epoch's end (the weights last.ckpt holds: no step
    comes after): the folder it ran in and the finished process, for the tests that read what it left."""
    root = tmp_path_factory.mktemp("ddp")
    config = root / "callbacks.yaml"
    config.write_text(yaml.safe_dump(CALLBACKS))
    fit = _lit_gpt2(*_whole_val_split_args(root, f"--config={config}", *DDP, epochs=1, cache_dir=root / "cache"))
    assert fit.returncode == 0, fit.stderr[-3000:]
    return root, fit


def test_ddp_on_two_cpu_processes_logs_once_and_matches_single_process_perplexity(ddp_fit, run_cli, capsys):
    root, _ = ddp_fit
    runs = list((root / "runs" / "lit-gpt2").iterdir())
    assert len(runs) == 1 and len(list(runs[0].glob("events.out.tfevents.*"))) == 1  # rank 0 alone writes
    events = EventAccumulator(str(runs[0]), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    assert [s.step for s in events.Scalars("gen/greedy/distinct_2")] == [0, 4]  # limit_train_batches is per rank
    assert [i.step for i in events.Images("attention/grid")] == [0, 4]
    (two,) = events.Scalars("val/ppl")

    # The whole validation split, validated by the 2 processes at the end of fit and by 1 (this one) from
    # last.ckpt, saved after that validation: the same weights, the same split and cache.
    checkpoint = runs[0] / "checkpoints" / "last.ckpt"
    args = _whole_val_split_args(root, cache_dir=root / "cache")[1:]
    capsys.readouterr()
    assert run_cli(["validate", *args, f"--ckpt_path={checkpoint}"]) == 0
    one = printed_val_ppl(capsys.readouterr().out)
    assert abs(two.value - one) <= 1e-4 * one


def test_close_process_group_ends_a_gloo_group_and_is_a_no_op_without_one(tmp_path):
    # A Gloo group left to interpreter shutdown aborted a finished DDP run now and then.
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    close_process_group()
    assert not dist.is_initialized()
    close_process_group()
    assert not dist.is_initialized()


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
    assert run_where_weights_are_whole(strategy, tiny_module, lambda: wrapper.gathered) is True
    assert tiny_module.forward == forward  # the redirection is undone


def test_unsharded_side_passes_run_directly(tiny_module):
    wrapper = GathersOnlyInForward(tiny_module)
    strategy = SingleDeviceStrategy(torch.device("cpu"))
    strategy.model = wrapper
    assert run_where_weights_are_whole(strategy, tiny_module, lambda: wrapper.gathered) is False


def test_lightnings_private_forward_redirection_is_where_and_as_we_call_it():
    # run_where_weights_are_whole relies on this private Lightning API: fail here, loudly, if it moves.
    redirection = getattr(SingleDeviceStrategy(torch.device("cpu")), "_forward_redirection", None)
    assert redirection is not None, "Lightning moved Strategy._forward_redirection: update lit_gpt2/distributed.py"
    parameters = list(inspect.signature(type(redirection).__call__).parameters)
    assert parameters[1:4] == ["wrapper_module", "original_module", "method_name"], parameters
    assert issubclass(FSDPStrategy, Strategy)


def test_ddp_on_two_processes_builds_the_data_cache_once_and_both_read_it(ddp_fit):
    """prepare_data runs on one process per node; the other waits, then reads the finished cache."""
    root, fit = ddp_fit
    assert (fit.stdout + fit.stderr).count("lit-gpt2: building the data cache") == 1
    (cache,) = (root / "cache").iterdir()  # one finished folder, no partial one left beside it
    assert (cache / "meta.json").exists()
