"""SLURM's requeue signal is answered at the next batch end, with Lightning's own checkpoint and requeue."""

import json
import signal

from conftest import slurm_job, tiny_fit_args


def test_the_requeue_signal_is_answered_at_the_next_batch_end_not_where_it_lands(tmp_path, run_cli, monkeypatch):
    """Where it lands may be inside a TensorBoard flush, whose lock Lightning's handler would wait for."""
    for name, value in slurm_job(tmp_path).items():
        monkeypatch.setenv(name, value)
    seen, hpc = tmp_path / "seen.json", tmp_path / "hpc_ckpt_1.ckpt"
    probe = {"path": str(seen), "file": str(hpc), "steps": 2, "signum": int(signal.SIGUSR1)}
    callbacks = f"--trainer.callbacks=[{{class_path: conftest.RaiseSignalAfterSteps, init_args: {json.dumps(probe)}}}]"
    before = signal.getsignal(signal.SIGUSR1)
    args = tiny_fit_args(
        tmp_path,
        "--trainer.plugins=lightning.pytorch.plugins.environments.SLURMEnvironment",
        callbacks,
        "--export.enabled=false",
        epochs=2,
    )
    assert run_cli(args) == 0
    assert json.loads(seen.read_text()) == {"right_after": False, "next_batch": True}
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    assert signal.getsignal(signal.SIGUSR1) == before  # the process's own handler back after the fit
