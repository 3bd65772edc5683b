"""The ``lit-gpt2`` command end to end: configs, fit, validate, export, and clear errors."""

import math
import re
from pathlib import Path

import pytest
import torch
import transformers
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO, TINY_CONFIG, printed_val_ppl, tiny_fit_args, tiny_tokenizer

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


def test_the_shipped_configs_exist():
    shipped = {"quickstart.yaml", "gpt2-finetune.yaml", "gpt2-medium.yaml", "gpt2-large.yaml", "early-stopping.yaml"}
    assert shipped <= {c.name for c in CONFIGS}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_parses_and_print_config_round_trips(config, run_cli, capsys, tmp_path):
    assert run_cli(["fit", "--config", str(config), "--print_config"]) == 0
    printed = capsys.readouterr().out
    resolved = yaml.safe_load(printed)
    assert {"trainer", "model", "data", "checkpoint", "export"} <= resolved.keys()
    saved = tmp_path / "resolved.yaml"
    saved.write_text(printed)
    assert run_cli(["fit", "--config", str(saved), "--print_config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == resolved


def _training_flops_per_token() -> int:
    from transformers import GPT2Config

    from lit_gpt2.evaluation.flops import forward_flops_per_token
    from lit_gpt2.inspect.anatomy import meta_gpt2
    from lit_gpt2.modeling.tokenizer import load_tokenizer

    vocab = len(load_tokenizer(str(tiny_tokenizer())))
    return 3 * forward_flops_per_token(meta_gpt2(GPT2Config(**TINY_CONFIG, vocab_size=vocab)), seq_len=32)


def _scalars(run: Path) -> dict[str, list[float]]:
    events = EventAccumulator(str(run))
    events.Reload()
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_fit_writes_run_dir_with_config_checkpoints_and_export(fitted):
    assert (fitted / "config.yaml").is_file()
    # The precision left unset resolves per machine, and the saved config records what was used.
    assert yaml.safe_load((fitted / "config.yaml").read_text())["trainer"]["precision"] == "32-true"
    checkpoints = {p.name for p in (fitted / "checkpoints").iterdir()}
    assert "last.ckpt" in checkpoints
    assert any(re.fullmatch(r"epoch\d\d-val_ppl[\d.]+\.ckpt", name) for name in checkpoints)
    assert (fitted / "export" / "model.safetensors").is_file()


def test_fit_logs_loss_perplexity_and_learning_rate_to_tensorboard(fitted):
    scalars = _scalars(fitted)
    assert len(scalars["train/loss"]) == 8  # 2 epochs x 4 batches, logged every step
    assert len(scalars["val/ppl"]) == len(scalars["val/loss"]) == 2
    for loss, ppl in zip(scalars["val/loss"], scalars["val/ppl"]):
        assert ppl == pytest.approx(torch.tensor(loss).exp().item(), rel=1e-5)
    # Bits per byte: GPT-2's tokens average more than one byte, so bpb < loss in bits per token.
    assert len(scalars["val/bpb"]) == 2
    assert all(0 < bpb < loss / math.log(2) for bpb, loss in zip(scalars["val/bpb"], scalars["val/loss"]))
    assert any(tag.startswith("lr-") for tag in scalars)
    # ThroughputMonitor: tokens/s, and FLOP/s from the module's own FLOPs per batch (4 blocks of 32).
    assert scalars["train/device/items_per_sec"] and all(v > 0 for v in scalars["train/device/items_per_sec"])
    ratio = [f / i for f, i in zip(scalars["train/device/flops_per_sec"], scalars["train/device/items_per_sec"])]
    assert ratio[-1] == pytest.approx(_training_flops_per_token(), rel=1e-6)


def test_validate_from_the_best_checkpoint_reproduces_its_perplexity(fitted, run_cli, capsys):
    best = next(p for p in (fitted / "checkpoints").iterdir() if p.name.startswith("epoch"))
    logged = float(re.search(r"val_ppl([\d.]+)\.ckpt", best.name).group(1).rstrip("."))
    args = tiny_fit_args(fitted.parent.parent.parent)
    assert run_cli(["validate", *args[1:], f"--ckpt_path={best}"]) == 0
    out = capsys.readouterr().out
    printed = float(re.search(r"val/ppl\s*│\s*([\d.]+)", out).group(1))
    assert printed == pytest.approx(logged, abs=0.01)


def test_test_reads_held_out_scripts_that_validation_does_not(fitted, run_cli, capsys):
    best = next(p for p in (fitted / "checkpoints").iterdir() if p.name.startswith("epoch"))
    args = tiny_fit_args(fitted.parent.parent.parent)[1:]
    assert run_cli(["validate", *args, f"--ckpt_path={best}"]) == 0
    val_ppl = printed_val_ppl(capsys.readouterr().out)
    # The first 3 batches of each split, as validation reads (tiny_fit_args' limit_val_batches=3).
    assert run_cli(["test", *args, f"--ckpt_path={best}", "--trainer.limit_test_batches=3"]) == 0
    out = capsys.readouterr().out
    test_ppl = float(re.search(r"test/ppl\s*│\s*([\d.]+)", out).group(1))
    assert "test/bpb" in out
    assert test_ppl != val_ppl  # other scripts (the same scripts would give the very same figure)


def _generate_without_pad_warning(model_dir: Path, caplog) -> str:
    transformers.logging.enable_propagation()
    generator = transformers.pipeline("text-generation", model=str(model_dir))
    with caplog.at_level("WARNING"):
        text = generator(["INT. DINER - NIGHT", "MARGO"], max_new_tokens=5, do_sample=False)[0][0]["generated_text"]
    assert "attention mask and the pad token id were not set" not in caplog.text
    return text


def test_exported_model_loads_in_a_transformers_pipeline_offline(fitted, caplog):
    assert _generate_without_pad_warning(fitted / "export", caplog).startswith("INT. DINER - NIGHT")


def test_export_command_from_a_checkpoint(fitted, run_cli, tmp_path, caplog):
    out = tmp_path / "exported"
    assert run_cli(["export", f"--ckpt_path={fitted / 'checkpoints' / 'last.ckpt'}", f"--out={out}"]) == 0
    assert _generate_without_pad_warning(out, caplog).startswith("INT. DINER - NIGHT")


def test_truncated_checkpoint_is_refused_with_one_line(fitted, run_cli, tmp_path, capsys):
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes((fitted / "checkpoints" / "last.ckpt").read_bytes()[:5000])
    assert run_cli(["export", f"--ckpt_path={broken}", f"--out={tmp_path / 'x'}"]) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "truncated" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data.source=/no/such/scripts"], "data.source='/no/such/scripts' does not exist"),
        (["--data.block_size=256"], "data.block_size=256 exceeds the model's context of 128 tokens"),
        (["--model.preset=gpt2"], "give exactly one of model.pretrained, model.preset, model.config"),
        (["--model.pretrained=gpt2", "--model.config=null", "--data.train_tokenizer=512"], "cannot use: unset one"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(extra, message, run_cli, capsys, tmp_path):
    assert run_cli(tiny_fit_args(tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("lit-gpt2: error:")] == [err.strip().splitlines()[-1]]


@pytest.mark.parametrize(
    ("accelerator", "cuda", "bf16", "expected"),
    [
        ("auto", True, True, "bf16-mixed"),
        ("gpu", True, True, "bf16-mixed"),
        ("cpu", True, True, "32-true"),  # asked for the CPU although a GPU is there
        ("auto", True, False, "32-true"),  # a GPU without bf16 (pre-Ampere)
        ("auto", False, False, "32-true"),
    ],
)
def test_default_precision_is_bf16_mixed_only_on_a_bf16_gpu(accelerator, cuda, bf16, expected, monkeypatch):
    from lit_gpt2.cli import default_precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert default_precision(accelerator) == expected


def test_a_whole_set_sanity_check_is_logged_as_the_step_0_baseline(run_cli, tmp_path):
    assert run_cli(tiny_fit_args(tmp_path, "--trainer.num_sanity_val_steps=-1", epochs=1)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    events = EventAccumulator(str(run))
    events.Reload()
    for tag in ("val/loss", "val/ppl", "val/bpb"):
        assert [e.step for e in events.Scalars(tag)] == [0, 3]  # before training, then after 4 steps
    # Random weights: the baseline perplexity is of the order of the vocabulary (tiny_tokenizer's 512 tokens).
    assert events.Scalars("val/ppl")[0].value > 400


def test_enable_progress_bar_false_turns_the_bar_off_instead_of_failing(tmp_path):
    """The default RichProgressBar callback made Lightning refuse --trainer.enable_progress_bar=false."""
    from lightning.pytorch.callbacks import RichProgressBar

    from conftest import tiny_fit_args
    from lit_gpt2.cli import TRAINER_DEFAULTS, LitGPT2CLI
    from lit_gpt2.data.datamodule import MovieScriptsDataModule
    from lit_gpt2.module import GPT2LitModule

    args = tiny_fit_args(tmp_path, "--trainer.enable_progress_bar=false")[1:]  # run=False builds and stops
    cli = LitGPT2CLI(GPT2LitModule, MovieScriptsDataModule, trainer_defaults=TRAINER_DEFAULTS, run=False, args=args)
    bars = [c for c in cli.trainer.callbacks if isinstance(c, RichProgressBar)]
    assert len(bars) == 1 and bars[0].is_disabled
