"""A lean one-token step for transformers' ``generate`` over ``GPT2LMHeadModel``'s own weights.

A decoding step of a small model is almost all per-operation overhead: transformers' forward builds a
mask, walks its decorators and output dataclasses and calls some 40 modules to push one token through
(about 2.4 ms for the quickstart model on a CPU, where the arithmetic is a fifth of that). ``generate``
keeps doing everything it does (strategies, logits processors, beam bookkeeping, stopping, the cache
object and its reordering); only its one-token steps go through ``decode_step``, which runs the same
operations on the same weights (as plain tensors: ``StepWeights``) and the same cache: layer norms,
``addmm`` as in ``Conv1D``, SDPA with the padding mask, the model's own activation. Its logits equal
transformers' (tested to 1e-10 in float64) and every preset writes the same samples in float32. The
first pass over the prompt, and any call the step does not cover, go to transformers' forward.
"""

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

import torch
import torch.nn.functional as F
from torch import nn
from transformers import DynamicCache, GPT2LMHeadModel
from transformers.modeling_outputs import CausalLMOutputWithCrossAttentions
from transformers.models.gpt2.modeling_gpt2 import GPT2Block
from transformers.pytorch_utils import Conv1D

from lit_gpt2.modeling.build import attention_implementation

# What ``generate`` passes on a decoding step besides the tokens, the cache, the mask and the positions.
_STEP_OPTIONS = {"use_cache", "return_dict", "logits_to_keep", "cache_position"}


def lean_decoding_unsupported(model: nn.Module) -> str | None:
    """Why the lean step cannot stand in for this model's decoding steps, or None when it can."""
    if type(model) is not GPT2LMHeadModel:
        return f"a {type(model).__name__}, not a plain GPT2LMHeadModel"
    config = model.config
    if config.add_cross_attention:
        return "cross-attention"
    if attention_implementation(model) != "sdpa":
        return f"{attention_implementation(model)} attention"
    for block in cast(Iterable[GPT2Block], model.transformer.h):
        layers = (block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj)
        if any(type(layer) is not Conv1D for layer in layers):  # LoRA adapters, quantised layers
            return "layers other than GPT-2's Conv1D"
    if any(_skipped_hooks(m) for m in model.modules()):
        return "forward hooks"
    if "forward" in vars(model):
        return "a forward already replaced on the model"
    if model.training:
        return "training mode (dropout)"
    return None


def _skipped_hooks(module: nn.Module) -> list:
    """The module's forward hooks that would not run in the lean step. transformers' own output-capturing
    hooks (installed for good by the first ``output_attentions`` or ``output_hidden_states`` call, as
    the attention and lens probes make) act only while such a call runs, which the step never covers."""
    hooks = [*module._forward_hooks.values(), *module._forward_pre_hooks.values()]
    return [hook for hook in hooks if getattr(hook, "__module__", None) != "transformers.utils.output_capturing"]


@contextmanager
def lean_decoding(model: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Within: the model's one-token steps with a filled cache go through ``decode_step``, all else
    through its own forward. Nothing changes where ``enabled`` is False or the model is unsupported
    (``lean_decoding_unsupported``); the model's own forward is back afterwards, even on error."""
    if not enabled or lean_decoding_unsupported(model) is not None:
        yield
        return
    original = model.forward
    weights = StepWeights.of(cast(GPT2LMHeadModel, model))  # checked by lean_decoding_unsupported

    # Wrapping transformers' forward keeps its signature, which ``generate`` reads to choose its inputs.
    @functools.wraps(original)
    def forward(*args: Any, **kwargs: Any) -> Any:
        step = _step_inputs(args, kwargs)
        if step is None:
            return original(*args, **kwargs)
        return decode_step(weights, *step)

    model.forward = forward  # an instance attribute: nn.Module.__call__ finds it before the class's
    try:
        yield
    finally:
        # Only ours: two threads generating with one model (the demo's handlers) may overlap here.
        if vars(model).get("forward") is forward:
            del model.forward


def _step_inputs(
    args: tuple, kwargs: dict[str, Any]
) -> tuple[torch.Tensor, DynamicCache, torch.Tensor | None, torch.Tensor] | None:
    """(tokens, cache, mask, positions) of a one-token step the lean step covers; None otherwise."""
    if args:
        return None
    options = dict(kwargs)
    input_ids = options.pop("input_ids", None)
    cache, legacy = options.pop("cache", None), options.pop("past_key_values", None)  # 5.x renamed it
    cache = legacy if cache is None else cache
    attention_mask = options.pop("attention_mask", None)
    position_ids = options.pop("position_ids", None)
    if set(options) - _STEP_OPTIONS or options.get("use_cache") is False or options.get("return_dict") is False:
        return None
    if input_ids is None or input_ids.shape[1] != 1 or position_ids is None:
        return None
    if type(cache) is not DynamicCache or cache.get_seq_length() == 0:
        return None
    return input_ids, cache, attention_mask, position_ids


class BlockWeights(NamedTuple):
    """One block's weights for ``decode_step``."""

    ln_1: tuple[torch.Tensor, torch.Tensor, float]  # weight, bias, eps
    attn: torch.Tensor  # Conv1D weights are (in, out): ``addmm(bias, x, weight)`` is Conv1D's forward
    attn_bias: torch.Tensor
    attn_proj: torch.Tensor
    attn_proj_bias: torch.Tensor
    ln_2: tuple[torch.Tensor, torch.Tensor, float]
    fc: torch.Tensor
    fc_bias: torch.Tensor
    proj: torch.Tensor
    proj_bias: torch.Tensor
    act: nn.Module
    heads: int
    head_dim: int
    scaling: float


class StepWeights(NamedTuple):
    """The model's weights as plain tensors, gathered once per ``generate`` call.

    Plain: a parameter is a tensor subclass, and every torch function given one first looks for an
    override; with some 50 functions a step at a few microseconds each, that check was about a tenth of a
    quickstart round's decoding (``python -m bench.decode_speed``). They share the parameters' storage,
    so they are the weights as they are now, and read only.
    """

    wte: torch.Tensor
    wpe: torch.Tensor
    blocks: tuple[BlockWeights, ...]
    ln_f: tuple[torch.Tensor, torch.Tensor, float]
    lm_head: torch.Tensor

    @classmethod
    def of(cls, model: GPT2LMHeadModel) -> "StepWeights":
        transformer = model.transformer
        blocks = []
        for block in cast(Iterable[GPT2Block], transformer.h):  # a ModuleList is typed by its base
            attn, mlp = block.attn, block.mlp
            blocks.append(
                BlockWeights(
                    _norm(block.ln_1),
                    attn.c_attn.weight.detach(),
                    attn.c_attn.bias.detach(),
                    attn.c_proj.weight.detach(),
                    attn.c_proj.bias.detach(),
                    _norm(block.ln_2),
                    mlp.c_fc.weight.detach(),
                    mlp.c_fc.bias.detach(),
                    mlp.c_proj.weight.detach(),
                    mlp.c_proj.bias.detach(),
                    mlp.act,
                    attn.num_heads,
                    attn.head_dim,
                    attn.scaling,
                )
            )
        return cls(
            transformer.wte.weight.detach(),
            transformer.wpe.weight.detach(),
            tuple(blocks),
            _norm(transformer.ln_f),
            model.lm_head.weight.detach(),
        )


def decode_step(
    weights: StepWeights,
    input_ids: torch.Tensor,
    cache: DynamicCache,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor,
) -> CausalLMOutputWithCrossAttentions:
    """Next-token logits of one new token per row, its keys and values appended to ``cache``.

    ``attention_mask`` (rows, cached + 1) marks real tokens with 1 and left padding with 0: a new token
    may attend to every real token before it, itself included.
    """
    rows = input_ids.shape[0]
    tokens, positions = input_ids[:, 0], position_ids[:, 0]
    hidden = F.embedding(tokens, weights.wte) + F.embedding(positions, weights.wpe)
    width = hidden.shape[-1]
    # As transformers does: no mask where nothing is padded, else the padding mask (one query: causal anyway).
    padded = attention_mask is not None and not bool(attention_mask.all())
    mask = attention_mask.bool()[:, None, None, :] if attention_mask is not None and padded else None
    for index, block in enumerate(weights.blocks):
        x = _layer_norm(hidden, block.ln_1)
        # One token per row: (rows, 3 x width) viewed as (rows, 3, heads, 1, head size) is q, k, v
        # already in SDPA's (rows, heads, tokens, head size) layout.
        qkv = torch.addmm(block.attn_bias, x, block.attn).view(rows, 3, block.heads, 1, block.head_dim)
        query, key, value = qkv.unbind(1)
        key, value = cache.update(key, value, index)
        attended = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=block.scaling)
        hidden = torch.addmm(block.attn_proj_bias, attended.reshape(rows, width), block.attn_proj).add_(hidden)
        up = torch.addmm(block.fc_bias, _layer_norm(hidden, block.ln_2), block.fc)
        hidden = torch.addmm(block.proj_bias, block.act(up), block.proj).add_(hidden)
    logits = F.linear(_layer_norm(hidden, weights.ln_f), weights.lm_head)
    return CausalLMOutputWithCrossAttentions(logits=logits.view(rows, 1, -1), cache=cache)


def _norm(norm: nn.LayerNorm) -> tuple[torch.Tensor, torch.Tensor, float]:
    return norm.weight.detach(), norm.bias.detach(), norm.eps


def _layer_norm(x: torch.Tensor, norm: tuple[torch.Tensor, torch.Tensor, float]) -> torch.Tensor:
    weight, bias, eps = norm
    return F.layer_norm(x, weight.shape, weight, bias, eps)
