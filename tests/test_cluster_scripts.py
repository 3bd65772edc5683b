"""The SLURM and torchrun scripts: valid shell, #SBATCH lines that agree with the trainer they start."""

import re
import shlex
import subprocess

import pytest
import yaml

from conftest import REPO

SBATCH = REPO / "scripts" / "slurm" / "fit.sbatch"
TORCHRUN = REPO / "scripts" / "torchrun" / "fit.sh"


@pytest.mark.parametrize("script", [SBATCH, TORCHRUN], ids=lambda p: p.name)
def test_scripts_are_valid_bash(script):
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def _directives() -> dict[str, str]:
    lines = re.findall(r"^#SBATCH --([\w-]+)(?:=(\S+))?", SBATCH.read_text(), flags=re.M)
    return {key: value for key, value in lines}


def _srun_args(env: dict[str, str]) -> list[str]:
    """The arguments the script passes to lit-gpt2, with SLURM's variables filled in as SLURM would."""
    command = re.search(r"^srun lit-gpt2 (.*?)\n\s*\"\$@\"", SBATCH.read_text(), flags=re.M | re.S).group(1)
    command = command.replace("\\\n", " ").rstrip().rstrip("\\")
    command = re.sub(r"\$\(\( \$\{SLURM_CPUS_PER_TASK:-8\} - 1 \)\)", str(int(env["SLURM_CPUS_PER_TASK"]) - 1), command)
    for name, value in env.items():
        command = command.replace(f"${{{name}}}", value)
    return shlex.split(command)


def test_one_task_per_gpu_and_the_requeue_signal():
    sbatch = _directives()
    assert sbatch["ntasks-per-node"] == sbatch["gpus-per-node"]
    assert sbatch["signal"].startswith("SIGUSR1@") and "requeue" in sbatch


def test_the_trainer_takes_nodes_devices_and_workers_from_the_allocation(run_cli, capsys):
    sbatch = _directives()
    env = {
        "SLURM_JOB_NUM_NODES": sbatch["nodes"],
        "SLURM_NTASKS_PER_NODE": sbatch["ntasks-per-node"],
        "SLURM_CPUS_PER_TASK": sbatch["cpus-per-task"],
        "SLURM_JOB_ID": "777",
    }
    args = _srun_args(env)
    assert args[0] == "fit"
    assert run_cli([*args, "--print_config"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    trainer = config["trainer"]
    assert trainer["num_nodes"] == int(sbatch["nodes"])
    assert trainer["devices"] == sbatch["ntasks-per-node"]
    assert trainer["strategy"] == "ddp"
    assert trainer["plugins"]["class_path"].endswith("SLURMEnvironment")
    assert trainer["plugins"]["init_args"]["auto_requeue"] is True
    assert str(trainer["logger"]["init_args"]["version"]) == "777"  # a requeued job writes to the same run
    assert trainer["default_root_dir"] == "runs/slurm/777"  # where its requeue checkpoint is found
    assert config["data"]["num_workers"] == int(sbatch["cpus-per-task"]) - 1
