"""Checks of a run's settings together, which no single argument's type can make: run by the CLI
before any data is prepared or any model is built, each refusing in one line that names the fix."""

from pathlib import Path

import torch
from jsonargparse import Namespace
from transformers import GPT2Config

from lit_gpt2.checkpoints import LOAD_ERRORS, is_deepspeed_checkpoint
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.presets import SIZE_PRESETS, preset_config

SHAPE = ("n_layer", "n_head", "n_embd", "n_positions")


def check_trainer(trainer: Namespace, subcommand: str | None) -> None:
    """A run that would train nothing, or ask for a device this machine does not have."""
    if subcommand == "fit":
        for option in ("max_epochs", "max_steps"):
            if trainer.get(option) == 0:
                raise UserInputError(
                    f"trainer.{option}=0 trains nothing (the export would be the untrained model): set it to at "
                    "least 1, or -1 for no limit"
                )
    accelerator = trainer.get("accelerator")
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise UserInputError(
            f"trainer.accelerator={accelerator} but this machine has no CUDA GPU that torch can use: "
            "set --trainer.accelerator=cpu (or auto, which picks a GPU when there is one)"
        )
    if accelerator == "mps" and not torch.backends.mps.is_available():
        raise UserInputError("trainer.accelerator=mps but Apple's MPS is not available here: use cpu or auto")


def check_resume(config: Namespace, subcommand: str | None) -> None:
    """A checkpoint that this run's model or plan cannot continue: another shape than ``model.config``
    or ``model.preset`` asks for (which would be trained and exported instead, silently), or more epochs
    done than ``trainer.max_epochs`` allows."""
    path = Path(config.ckpt_path)
    if is_deepspeed_checkpoint(path):
        return
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except LOAD_ERRORS:
        return  # verify_checkpoint has refused anything unreadable; a foreign format is Lightning's to report
    recorded = state.get("hyper_parameters", {}).get("config")
    asked = _asked_shape(config.model)
    if isinstance(recorded, dict) and asked is not None:
        have = GPT2Config(**recorded)
        if any(getattr(have, k) != getattr(asked, k) for k in SHAPE):
            raise UserInputError(
                f"--ckpt_path={path} holds a model of {_shape(have)}, but the model options ask for {_shape(asked)}: "
                "give the checkpoint's shape in --model.config (or its run's config.yaml as --config), or train the "
                "new shape without --ckpt_path"
            )
    max_epochs = config.trainer.get("max_epochs")
    done = state.get("loops", {}).get("fit_loop", {}).get("epoch_progress", {}).get("current", {}).get("processed")
    if subcommand == "fit" and isinstance(done, int) and max_epochs not in (None, -1) and done > max_epochs:
        raise UserInputError(
            f"--ckpt_path={path} has trained {done} epoch(s), more than trainer.max_epochs={max_epochs} (which counts "
            f"from the run's start, not from the checkpoint): set --trainer.max_epochs above {done} to train on"
        )


def _asked_shape(model: Namespace) -> GPT2Config | None:
    """The shape the model options ask for; None for pretrained weights (known only once loaded)."""
    if model.get("config"):
        try:
            return GPT2Config(**dict(model.config))
        except (TypeError, ValueError):
            return None  # build_model refuses it in its own words
    if model.get("preset") in SIZE_PRESETS:
        return preset_config(model.preset)
    return None


def _shape(config: GPT2Config) -> str:
    return ", ".join(f"{k}={getattr(config, k)}" for k in SHAPE)
