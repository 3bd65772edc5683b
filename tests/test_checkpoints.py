"""Checkpoint loading: DeepSpeed's sharded folders are accepted and consolidated, other folders refused."""

import lightning
import pytest
import torch

from lit_gpt2.checkpoints import load_module, verify_checkpoint
from lit_gpt2.errors import UserInputError


def _deepspeed_folder(tmp_path):
    folder = tmp_path / "epoch00.ckpt"
    (folder / "checkpoint").mkdir(parents=True)
    (folder / "latest").write_text("checkpoint")
    return folder


def test_a_deepspeed_checkpoint_folder_is_accepted_and_any_other_folder_refused(tmp_path):
    folder = _deepspeed_folder(tmp_path)
    assert verify_checkpoint(folder) == folder
    with pytest.raises(UserInputError, match="does not exist: pass the path of a .ckpt file"):
        verify_checkpoint(folder / "checkpoint")


def test_a_deepspeed_folder_loads_through_lightnings_consolidation(tmp_path, tiny_module, monkeypatch):
    import lightning.pytorch.utilities.deepspeed as lightning_deepspeed

    with torch.no_grad():
        tiny_module.model.transformer.wte.weight.fill_(0.25)
    consolidated = {
        "state_dict": tiny_module.state_dict(),
        "hyper_parameters": {**tiny_module.hparams, "config": tiny_module.model.config.to_diff_dict()},
        "pytorch-lightning_version": lightning.__version__,
    }
    calls = []

    def convert(checkpoint_dir, output_file, tag=None):
        calls.append(checkpoint_dir)
        torch.save(consolidated, output_file)

    monkeypatch.setattr(lightning_deepspeed, "convert_zero_checkpoint_to_fp32_state_dict", convert)
    folder = _deepspeed_folder(tmp_path)
    module = load_module(folder)
    assert calls == [str(folder)]
    assert torch.all(module.model.transformer.wte.weight == 0.25)
