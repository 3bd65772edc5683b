"""Faults lose at most the work since the last checkpoint, and say so in one line."""

import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from conftest import REPO, copy_of_fitted, slurm_job, tiny_fit_args


@pytest.mark.parametrize("log_every_n_steps", [1, 10])  # checked every step; only before validation
def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(
    run_cli, tmp_path, capsys, log_every_n_steps
):
    config = tmp_path / "poison.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [{"class_path": "conftest.PoisonWeightsAt"}]}}))
    args = tiny_fit_args(tmp_path, f"--config={config}", f"--trainer.log_every_n_steps={log_every_n_steps}", epochs=3)
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    assert "train/loss is nan at step 6 (epoch 1): training stopped" in err
    assert str(last) in err and "Traceback" not in err
    state = torch.load(last, map_location="cpu", weights_only=True)
    assert state["global_step"] == 4  # the end of epoch 0, before the poisoned step
    assert all(torch.isfinite(t).all() for t in state["state_dict"].values())


def test_the_loss_is_checked_at_logging_intervals_and_validations_not_every_step(run_cli, tmp_path, monkeypatch):
    from lit_gpt2.module import GPT2LitModule

    checks = []
    original = GPT2LitModule._stop_if_diverged
    monkeypatch.setattr(GPT2LitModule, "_stop_if_diverged", lambda self: checks.append(1) or original(self))
    # 2 epochs of 4 batches, logging every 2: 2 checks an epoch, and one before each validation.
    assert run_cli(tiny_fit_args(tmp_path, "--trainer.log_every_n_steps=2", epochs=2)) == 0
    assert len(checks) == 2 * 2 + 2


def test_damaged_checkpoint_is_refused_by_fit_and_validate(run_cli, fitted, tmp_path, capsys):
    copy_of_fitted(fitted, tmp_path)
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    broken = tmp_path / "broken.ckpt"
    data = bytearray(last.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # damage in the middle, length unchanged
    broken.write_bytes(bytes(data))
    for command in ("fit", "validate"):
        assert run_cli([command, *tiny_fit_args(tmp_path)[1:], f"--ckpt_path={broken}"]) == 2
        err = capsys.readouterr().err
        assert "cannot be read" in err and "Traceback" not in err
    assert run_cli(["validate", *tiny_fit_args(tmp_path)[1:], f"--ckpt_path={tmp_path / 'nope.ckpt'}"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _start_fit(tmp_path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    """A tiny fit in a subprocess, of 50 epochs: it is still training when the test stops it. Its epochs
    are the tiny ones (4 batches): this Lightning saves no checkpoint, not even last.ckpt, before the
    first validation gives it val/ppl to monitor."""
    args = tiny_fit_args(tmp_path, *extra, epochs=50)
    return subprocess.Popen(
        [sys.executable, "-m", "lit_gpt2", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "tests"), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigkill_at_any_moment_leaves_a_loadable_checkpoint_to_resume_from(tmp_path, run_cli):
    """A checkpoint every step once the first epoch has validated; SIGKILL at several moments, some of
    them during a save."""
    process = _start_fit(tmp_path, "--checkpoint.every_n_train_steps=1")
    last = tmp_path / "runs" / "lit-gpt2" / "version_0" / "checkpoints" / "last.ckpt"
    _wait_for(last.exists, process)
    for delay in (0.0, 0.13, 0.29):
        time.sleep(delay)
        state = torch.load(last, map_location="cpu", weights_only=True)
        assert state["global_step"] >= 1
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = torch.load(last, map_location="cpu", weights_only=True)  # never a truncated file
    assert all(torch.isfinite(t).all() for t in state["state_dict"].values())
    resume = tiny_fit_args(tmp_path, f"--ckpt_path={last}", "--export.enabled=false", epochs=1 + state["epoch"])
    assert run_cli(resume) == 0  # resuming is the point, not the export at its end


def test_slurm_requeue_signal_saves_a_checkpoint_requeues_and_the_next_job_resumes(
    tmp_path, run_cli, monkeypatch, caplog
):
    slurm = slurm_job(tmp_path)
    # As scripts/slurm/fit.sbatch: the run is named after the job, which keeps its id when requeued.
    plugin = [
        "--trainer.plugins=lightning.pytorch.plugins.environments.SLURMEnvironment",
        "--trainer.logger.init_args.version=4242",
    ]
    started = tmp_path / "started"
    marker = {"class_path": "conftest.MarkAfterSteps", "init_args": {"path": str(started), "steps": 2}}
    config = tmp_path / "marker.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [marker]}}))
    process = _start_fit(tmp_path, *plugin, f"--config={config}", "--trainer.plugins.auto_requeue=true", env=slurm)
    _wait_for(started.exists, process)  # steps done: the checkpoint has something to hold
    process.send_signal(signal.SIGUSR1)
    hpc = tmp_path / "hpc_ckpt_1.ckpt"
    _wait_for(lambda: hpc.exists() and (tmp_path / "scontrol.log").exists(), process)
    process.send_signal(signal.SIGKILL)  # SLURM would now stop the job
    process.wait()
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    state = torch.load(hpc, map_location="cpu", weights_only=True)
    assert state["global_step"] > 0 and not math.isnan(state["epoch"])

    # The requeued job: same job id and folder, no --ckpt_path; Lightning finds the HPC checkpoint.
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level("INFO"):
        assert run_cli(tiny_fit_args(tmp_path, *plugin, "--export.enabled=false", epochs=state["epoch"] + 1)) == 0
    assert f"Restoring states from the checkpoint path at {hpc}" in caplog.text
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()  # the same run folder and TensorBoard run
    assert run.name == "version_4242"
    # Both jobs wrote there: event files are named ...tfevents.<time>.<host>.<pid>.<n>.
    writers = {int(event.name.split(".")[-2]) for event in run.glob("events.out.tfevents.*")}
    assert writers == {process.pid, os.getpid()}
