"""GPT-2 anatomy on the ``meta`` device: the weightless model, its component tree and exact parameter
breakdown. Meta tensors have shapes but no storage: nothing is allocated or downloaded, so even gpt2-xl
is described instantly. Its cost per token is ``lit_gpt2.evaluation.flops``; the report that puts both
beside other transformer families is ``lit_gpt2.inspect.architecture_report``."""

from typing import cast

import torch
from torch import nn
from transformers import AutoConfig, GPT2Config, GPT2LMHeadModel
from transformers.models.gpt2.modeling_gpt2 import GPT2Block

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.build import parameter_count
from lit_gpt2.modeling.hub import hub_reachable
from lit_gpt2.modeling.presets import SIZE_PRESETS, preset_config


def meta_gpt2(spec: str | GPT2Config) -> GPT2LMHeadModel:
    """A size preset, the config of a saved folder / hub name, or a config, as a weightless GPT-2."""
    if isinstance(spec, GPT2Config):
        config = spec
    else:
        try:
            config = (
                preset_config(spec)
                if spec in SIZE_PRESETS
                else AutoConfig.from_pretrained(spec, local_files_only=not hub_reachable())
            )
        except OSError:
            raise UserInputError(
                f"no model config for {spec!r}: give a size preset ({', '.join(SIZE_PRESETS)}), a saved model "
                "folder, or (online) a hub name"
            ) from None
    if not isinstance(config, GPT2Config):
        raise UserInputError(f"{spec} is a {type(config).__name__}, not a GPT-2 model")
    with torch.device("meta"):
        return GPT2LMHeadModel(config)


def parameter_breakdown(model: GPT2LMHeadModel) -> list[tuple[str, int]]:
    """(component, parameters) rows that add up exactly to ``parameter_count(model)``."""
    t = model.transformer
    block = cast(GPT2Block, t.h[0])  # nn.ModuleList is typed by its base class, Module
    layers = len(t.h)
    rows = [
        ("token embedding (wte)", parameter_count(t.wte)),
        ("position embedding (wpe)", parameter_count(t.wpe)),
        (f"attention qkv (c_attn) x {layers}", layers * parameter_count(block.attn.c_attn)),
        (f"attention output projection (c_proj) x {layers}", layers * parameter_count(block.attn.c_proj)),
        (f"MLP up (c_fc) x {layers}", layers * parameter_count(block.mlp.c_fc)),
        (f"MLP down (c_proj) x {layers}", layers * parameter_count(block.mlp.c_proj)),
        (f"LayerNorms (ln_1, ln_2) x {layers}", layers * (parameter_count(block.ln_1) + parameter_count(block.ln_2))),
        ("final LayerNorm (ln_f)", parameter_count(t.ln_f)),
    ]
    tied = model.lm_head.weight is t.wte.weight
    if tied:
        rows.append(("LM head (tied to wte: counted once, above)", 0))
    else:
        rows.append(("LM head", parameter_count(model.lm_head)))
    return rows


def module_tree(
    module: nn.Module, name: str = "", depth: int = 0, max_depth: int = 4, seen: set[int] | None = None
) -> list[str]:
    """The component tree, one line per module, a repeated stack of blocks shown once with its count.

    A module whose weights all appeared earlier in the tree (GPT-2's tied LM head) says so instead of
    counting them again."""
    seen = set() if seen is None else seen
    label = f"{name}: " if name else ""
    params = list(module.parameters())
    if params and all(id(p) in seen for p in params):
        return [f"{'  ' * depth}{label}{type(module).__name__} (weights shared with an earlier module)"]
    lines = [f"{'  ' * depth}{label}{type(module).__name__} ({parameter_count(module):,} params)"]
    if depth >= max_depth:
        return lines
    for child_name, child in module.named_children():
        if isinstance(child, nn.ModuleList) and len(child) > 0:
            lines.append(f"{'  ' * (depth + 1)}{child_name}: {len(child)} x {type(child[0]).__name__}, each:")
            lines += module_tree(child[0], f"{child_name}[0]", depth + 2, max_depth, seen)
            seen.update(id(p) for p in child.parameters())
        else:
            lines += module_tree(child, child_name, depth + 1, max_depth, seen)
    seen.update(id(p) for p in params)
    return lines
