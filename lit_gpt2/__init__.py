"""lit-gpt2: fine-tune GPT-2 on movie scripts with PyTorch Lightning and watch it learn."""

from pathlib import Path
from typing import Any

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.errors import UserInputError
from lit_gpt2.module import GPT2LitModule

__all__ = ["GPT2LitModule", "MovieScriptsDataModule", "UserInputError", "fit"]
__version__ = "0.1.0"


def fit(config: str | Path | None = None, **overrides: Any) -> Path:
    """Train from Python as ``lit-gpt2 fit --config CONFIG`` does, with overrides; returns the run folder.

    ``lit_gpt2.fit("configs/quickstart.yaml", data={"source": "scripts/"}, trainer={"max_epochs": 1})``;
    see ``lit_gpt2.cli.fit``.
    """
    from lit_gpt2.cli import fit as fit_like_the_cli  # the CLI (and its callbacks) only when asked for

    return fit_like_the_cli(config, **overrides)
