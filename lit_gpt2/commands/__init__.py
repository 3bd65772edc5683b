"""The project's own commands beside LightningCLI's: thin front ends over the core.

Each is a typed function whose signature and ``Args:`` docstring are its command-line options
(``lit_gpt2.commands.runner``); call them from Python with the same arguments.
"""

from collections.abc import Callable

from lit_gpt2.commands.architecture import architecture_command
from lit_gpt2.commands.attention import attention_command
from lit_gpt2.commands.compare import compare_command
from lit_gpt2.commands.demo import demo_command
from lit_gpt2.commands.export import export_command
from lit_gpt2.commands.generate import generate_command
from lit_gpt2.commands.lens import lens_command
from lit_gpt2.commands.perplexity import perplexity_command
from lit_gpt2.commands.repeated_text import repeated_text_command
from lit_gpt2.commands.train_tokenizer import train_tokenizer_command

COMMANDS: dict[str, Callable[..., object]] = {
    "generate": generate_command,
    "compare": compare_command,
    "architecture": architecture_command,
    "attention": attention_command,
    "lens": lens_command,
    "perplexity": perplexity_command,
    "export": export_command,
    "train-tokenizer": train_tokenizer_command,
    "demo": demo_command,
    "repeated-text": repeated_text_command,
}
