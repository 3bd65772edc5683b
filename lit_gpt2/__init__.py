"""lit-gpt2: fine-tune GPT-2 on movie scripts with PyTorch Lightning and watch it learn."""

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.errors import UserInputError
from lit_gpt2.module import GPT2LitModule

__all__ = ["GPT2LitModule", "MovieScriptsDataModule", "UserInputError"]
__version__ = "0.1.0"
