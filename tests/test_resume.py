"""Resuming continues exactly: same data order, dropout, LR schedule, weights and logged perplexity."""

import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import tiny_fit_args


def _final(run_dir):
    (version,) = sorted((run_dir / "runs" / "lit-gpt2").iterdir())[-1:]
    state = torch.load(version / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    events = EventAccumulator(str(version))
    events.Reload()
    return state, [e.value for e in events.Scalars("val/ppl")], [e.value for e in events.Scalars("train/loss")]


def test_two_epochs_equal_one_epoch_then_resume(run_cli, tmp_path):
    straight = tmp_path / "straight"
    assert run_cli(tiny_fit_args(straight, epochs=2)) == 0

    cut = tmp_path / "cut"
    stop = cut / "stop.yaml"
    cut.mkdir()
    stop.write_text(yaml.safe_dump({"trainer": {"callbacks": [{"class_path": "conftest.StopAfterEpochs"}]}}))
    assert run_cli(tiny_fit_args(cut, f"--config={stop}", epochs=2)) == 0
    first = next((cut / "runs" / "lit-gpt2").iterdir())
    assert run_cli(tiny_fit_args(cut, f"--ckpt_path={first / 'checkpoints' / 'last.ckpt'}", epochs=2)) == 0

    expected, resumed = _final(straight), _final(cut)
    assert expected[0]["epoch"] == resumed[0]["epoch"] == 1
    assert expected[0]["global_step"] == resumed[0]["global_step"] == 8
    for name, tensor in expected[0]["state_dict"].items():
        assert torch.equal(tensor, resumed[0]["state_dict"][name]), name
    assert expected[1][-1] == resumed[1][-1]  # the resumed run's val/ppl of epoch 2
    assert expected[2][-4:] == resumed[2][-4:]  # and the train losses of its steps
