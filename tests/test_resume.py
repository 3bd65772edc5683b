"""Resuming continues exactly (same data order, dropout, LR schedule, weights and logged perplexity), and
``--ckpt_path`` names ``last`` and ``best`` find the checkpoints of earlier runs."""

import warnings

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import copy_of_fitted, printed_val_ppl, tiny_fit_args


def _final(run_dir, version=None):
    runs = run_dir / "runs" / "lit-gpt2"
    version = runs / version if version else sorted(runs.iterdir())[-1]
    state = torch.load(version / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    events = EventAccumulator(str(version))
    events.Reload()
    return state, [e.value for e in events.Scalars("val/ppl")], [e.value for e in events.Scalars("train/loss")]


def test_two_epochs_equal_one_epoch_then_resume(run_cli, fitted, tmp_path):
    # The straight run: the session's fit of 2 epochs, with the same arguments as the cut one.
    same = "--throughput.window_size=2"
    cut = tmp_path / "cut"
    stop = cut / "stop.yaml"
    cut.mkdir()
    stop.write_text(yaml.safe_dump({"trainer": {"callbacks": [{"class_path": "conftest.StopAfterEpochs"}]}}))
    assert run_cli(tiny_fit_args(cut, same, f"--config={stop}", epochs=2)) == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_cli(tiny_fit_args(cut, same, "--ckpt_path=last", epochs=2)) == 0
    assert not [w for w in caught if "exists and is not empty" in str(w.message)]  # continuing it is the point
    assert [run.name for run in (cut / "runs" / "lit-gpt2").iterdir()] == ["version_0"]  # the same run continued

    expected, resumed = _final(fitted.parent.parent.parent, version=fitted.name), _final(cut)
    assert expected[0]["epoch"] == resumed[0]["epoch"] == 1
    assert expected[0]["global_step"] == resumed[0]["global_step"] == 8
    for name, tensor in expected[0]["state_dict"].items():
        assert torch.equal(tensor, resumed[0]["state_dict"][name]), name
    # One TensorBoard run holds both halves, equal to the straight run's curves.
    assert len(expected[1]) == 2 and expected[1] == resumed[1]  # val/ppl of epochs 1 and 2
    assert len(expected[2]) == 8 and expected[2] == resumed[2]  # train/loss of every step


def test_a_resumed_run_with_the_watching_callbacks_logs_every_step_once(run_cli, tmp_path):
    callbacks = [
        {"class_path": "conftest.StopAfterEpochs"},
        {
            "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
            "init_args": {"max_new_tokens": 4, "strategies": ["greedy"]},
        },
        # Its rounds are checked: no full-size heads or head-score charts to draw.
        {
            "class_path": "lit_gpt2.callbacks.AttentionHeatmapCallback",
            "init_args": {"heads": [], "head_score_length": 0},
        },
    ]
    config = tmp_path / "callbacks.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks}}))
    no_export = "--export.enabled=false"  # what the callbacks log is checked, not the model
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", no_export, epochs=2)) == 0
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks[1:]}}))
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", no_export, "--ckpt_path=last", epochs=2)) == 0

    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    events = EventAccumulator(str(run), size_guidance={"images": 0})
    events.Reload()
    assert [s.step for s in events.Scalars("gen/greedy/distinct_2")] == [0, 4, 8]
    assert [i.step for i in events.Images("attention/grid")] == [0, 4, 8]


def test_last_picks_the_newest_run_with_a_checkpoint_and_validate_reads_it(run_cli, fitted, tmp_path, capsys):
    copy_of_fitted(fitted, tmp_path)
    runs = tmp_path / "runs" / "lit-gpt2"
    (runs / "version_1").mkdir()  # a later run that died before its first checkpoint
    capsys.readouterr()
    args = [a for a in tiny_fit_args(tmp_path) if a != "fit"]
    assert run_cli(["validate", *args, "--ckpt_path=last"]) == 0

    # The trained weights were validated (the same val/ppl as at the end of fit), from version_0's last.ckpt.
    printed = printed_val_ppl(capsys.readouterr().out)
    assert printed == pytest.approx(_final(tmp_path, version="version_0")[1][-1], rel=1e-5)
    (saved,) = runs.glob("version_2/config.yaml")
    assert yaml.safe_load(saved.read_text())["ckpt_path"] == str(runs / "version_0" / "checkpoints" / "last.ckpt")


def test_last_without_an_earlier_run_is_refused_in_one_line(run_cli, tmp_path, capsys):
    assert run_cli(tiny_fit_args(tmp_path, "--ckpt_path=last")) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("lit-gpt2: error: --ckpt_path=last found no last.ckpt in ")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.ckpt"))


def test_best_is_the_best_checkpoint_the_newest_run_recorded(run_cli, tmp_path, capsys):
    # mode=max makes the worse first epoch the "best", so best and last differ.
    assert run_cli(tiny_fit_args(tmp_path, "--checkpoint.mode=max", epochs=2)) == 0
    ppl = _final(tmp_path)[1]
    assert ppl[0] != ppl[1]
    capsys.readouterr()
    args = [a for a in tiny_fit_args(tmp_path) if a != "fit"]
    assert run_cli(["validate", *args, "--ckpt_path=best"]) == 0
    printed = printed_val_ppl(capsys.readouterr().out)
    assert printed == pytest.approx(ppl[0], rel=1e-5)


def test_best_without_a_recorded_best_is_refused_in_one_line(run_cli, tmp_path, capsys):
    short = ["--trainer.limit_train_batches=1", "--trainer.limit_val_batches=1"]  # a last.ckpt is all it needs
    assert run_cli(tiny_fit_args(tmp_path, "--checkpoint.save_top_k=0", *short, epochs=1)) == 0
    args = [a for a in tiny_fit_args(tmp_path) if a != "fit"]
    assert run_cli(["validate", *args, "--ckpt_path=best"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("lit-gpt2: error: --ckpt_path=best: ") and "records no best checkpoint" in error


def test_best_from_a_damaged_last_checkpoint_is_refused_in_one_line(run_cli, fitted, tmp_path, capsys):
    copy_of_fitted(fitted, tmp_path)
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # cut off, as by a full disk
    args = [a for a in tiny_fit_args(tmp_path) if a != "fit"]
    assert run_cli(["validate", *args, "--ckpt_path=best"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"lit-gpt2: error: checkpoint {str(last)!r} cannot be read (")
