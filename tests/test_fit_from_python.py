"""``lit_gpt2.fit``: the ``lit-gpt2 fit`` run from Python, for a notebook user without a shell."""

import pytest
import yaml

import lit_gpt2
from conftest import TINY_CONFIG
from lit_gpt2.cli import override_args


def test_overrides_become_the_options_the_cli_takes():
    overrides = {"data": {"source": "scripts/", "normalize": False}, "model": {"config": {"n_layer": 2}}}
    assert override_args(overrides | {"seed_everything": 7, "trainer": {"logger.init_args.save_dir": "r"}}) == [
        "--data.source=scripts/",
        "--data.normalize=false",
        '--model.config={"n_layer": 2}',
        "--seed_everything=7",
        "--trainer.logger.init_args.save_dir=r",
    ]


def test_fit_from_python_trains_one_text_file_and_returns_the_run_folder(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({"model": {"config": TINY_CONFIG, "warmup_steps": 2}, "data": {"block_size": 32}}))
    novel = tmp_path / "novel.txt"
    novel.write_text("".join(f"Line {i} of a story someone wrote, as it came.\n" for i in range(600)))
    run = lit_gpt2.fit(
        str(config),
        data={"source": str(novel), "cache_dir": str(tmp_path / "cache")},
        trainer={
            "max_epochs": 1,
            "limit_train_batches": 2,
            "limit_val_batches": 1,
            "accelerator": "cpu",
            "logger.init_args.save_dir": str(tmp_path / "runs"),
        },
        seed_everything=3,
    )
    assert run == tmp_path / "runs" / "lit-gpt2" / "version_0"
    saved = yaml.safe_load((run / "config.yaml").read_text())  # what LightningCLI saves for every fit
    assert saved["data"]["source"] == str(novel) and saved["model"]["config"]["n_layer"] == 2
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "export" / "model.safetensors").is_file()


def test_a_mistake_raises_the_one_line_error_instead_of_exiting(tmp_path):
    with pytest.raises(lit_gpt2.UserInputError, match="loss_chunk_size=-1 must be >= 0"):
        lit_gpt2.fit(model={"config": TINY_CONFIG, "loss_chunk_size": -1}, trainer={"default_root_dir": str(tmp_path)})
