"""LoRA adapters on GPT-2 through ``peft``: only small low-rank matrices train, the base stays frozen.

``peft`` (``pip install lit-gpt2[lora]``) is imported only when LoRA is used. The adapters are injected
into the ``GPT2LMHeadModel`` in place, so the module's ``self.model`` stays a ``GPT2LMHeadModel`` and
every callback and command that reads it works unchanged; the ``PeftModel`` wrapper kept beside it
gives peft's own merge and adapter saving.
"""

import copy
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn
from transformers import GPT2LMHeadModel

from lit_gpt2.errors import UserInputError

if TYPE_CHECKING:
    from peft import PeftModel

# GPT-2's linear layers (transformers' Conv1D): attention qkv and output, MLP up and down.
LORA_TARGETS = ("c_attn", "c_proj", "c_fc")


@dataclass
class LoraSettings:
    """LoRA adapter settings (``--model.lora.rank=8``; docs: peft's ``LoraConfig``).

    Args:
        rank: Rank r of each adapter (A: r x in, B: out x r).
        alpha: Scale numerator: the adapter's update is multiplied by alpha / rank.
        dropout: Dropout on the adapter's input while training.
        target_modules: GPT-2 layers that get adapters, of c_attn (attention qkv), c_proj (attention
            output and MLP down) and c_fc (MLP up).
    """

    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("c_attn",)

    def __post_init__(self) -> None:
        self.target_modules = tuple(self.target_modules)
        if self.rank < 1:
            raise UserInputError(f"model.lora.rank={self.rank} must be at least 1 (e.g. 8)")
        unknown = [name for name in self.target_modules if name not in LORA_TARGETS]
        if unknown or not self.target_modules:
            raise UserInputError(
                f"model.lora.target_modules={list(self.target_modules)}: choose from {', '.join(LORA_TARGETS)}"
            )


def apply_lora(model: GPT2LMHeadModel, settings: LoraSettings) -> "PeftModel":
    """Inject adapters into ``model`` in place and freeze everything else; returns peft's wrapper of it."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise UserInputError("model.lora needs peft: pip install 'lit-gpt2[lora]' (or pip install peft)") from None
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,  # type: ignore[arg-type]  # peft annotates int; it divides by r
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        fan_in_fan_out=True,  # GPT-2's Conv1D stores weights as (in, out)
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft asks transformers a deprecated question (is_gradient_checkpointing) on every wrap.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def merged_copy(peft_model: "PeftModel") -> GPT2LMHeadModel:
    """A plain ``GPT2LMHeadModel`` with the adapters merged into its weights; the trained model is untouched."""
    return copy.deepcopy(peft_model).merge_and_unload()


def save_adapter(peft_model: "PeftModel", directory: str | Path) -> Path:
    """The adapter alone (adapter_config.json + adapter_model.safetensors), for ``PeftModel.from_pretrained``."""
    peft_model.save_pretrained(str(directory))
    return Path(directory)


def trainable_names(module: nn.Module) -> set[str]:
    return {name for name, param in module.named_parameters() if param.requires_grad}
