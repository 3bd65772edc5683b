"""A lean training forward over ``GPT2LMHeadModel``'s own modules and weights, for packed blocks.

Training on packed blocks needs none of what transformers' generic forward carries: no cache, no
padding mask, no cross-attention, no output dataclasses. This forward does what nanoGPT's does: SDPA
with ``is_causal=True`` and no materialised mask, GPT-2's tanh GELU as torch's one fused kernel on
GPUs (on CPUs the same function through a sigmoid: ``_mlp``), and the residual stream kept in one
tensor. It calls the model's own submodules (so LoRA adapters that peft injected into
``c_attn``/``c_proj``/``c_fc`` take part), and its hidden states equal transformers' (tested to 1e-10
in float64, with and without LoRA). Generation, probes and exports keep using
transformers' forward.
"""

import math
from collections.abc import Iterable
from typing import cast

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import GPT2LMHeadModel
from transformers.activations import NewGELUActivation
from transformers.models.gpt2.modeling_gpt2 import GPT2MLP, GPT2Attention, GPT2Block

from lit_gpt2.modeling.build import attention_implementation


def lean_unsupported(model: GPT2LMHeadModel) -> str | None:
    """Why the lean forward cannot stand in for this model's, or None when it can."""
    config = model.config
    if config.add_cross_attention:
        return "cross-attention"
    if config.reorder_and_upcast_attn and attention_implementation(model) == "eager":
        return "reorder_and_upcast_attn"
    return None


def lean_hidden_states(model: GPT2LMHeadModel, input_ids: torch.Tensor) -> torch.Tensor:
    """The final layer norm's output for causal blocks without padding: ``model.transformer(input_ids)``'s
    ``last_hidden_state``, computed leanly."""
    transformer = model.transformer
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)
    hidden = transformer.drop(transformer.wte(input_ids) + transformer.wpe(positions))
    recompute = transformer.gradient_checkpointing and transformer.training
    for block in cast(Iterable[GPT2Block], transformer.h):  # nn.ModuleList is typed by its base class
        if recompute:  # as transformers' gradient_checkpointing_enable asks: recompute in backward
            hidden = checkpoint(_block, block, hidden, use_reentrant=False)
        else:
            hidden = _block(block, hidden)
    return transformer.ln_f(hidden)


def _block(block: GPT2Block, hidden: torch.Tensor) -> torch.Tensor:
    hidden = hidden + _attention(block.attn, block.ln_1(hidden))
    return hidden + _mlp(block.mlp, block.ln_2(hidden))


def _attention(attn: GPT2Attention, x: torch.Tensor) -> torch.Tensor:
    batch, length, width = x.shape
    heads = (batch, length, attn.num_heads, attn.head_dim)
    query, key, value = (t.view(heads).transpose(1, 2) for t in attn.c_attn(x).split(width, dim=2))
    y = F.scaled_dot_product_attention(
        query,
        key,
        value,
        dropout_p=attn.attn_dropout.p if attn.training else 0.0,
        is_causal=True,
        scale=attn.scaling,
    )
    return attn.resid_dropout(attn.c_proj(y.transpose(1, 2).reshape(batch, length, width)))


def _mlp(mlp: GPT2MLP, x: torch.Tensor) -> torch.Tensor:
    up = mlp.c_fc(x)
    # GPT-2's "gelu_new" is the tanh GELU written as five elementwise ops (ten kernels with their
    # backward). torch has it as one kernel, which is fast on GPUs; on CPUs its vectorised tanh is slow,
    # and the same function through a sigmoid takes half the time (bench/results/lean_forward_cpu.md).
    if not isinstance(mlp.act, NewGELUActivation):
        return mlp.dropout(mlp.c_proj(mlp.act(up)))
    activated = _SigmoidTanhGelu.apply(up) if up.is_cpu else F.gelu(up, approximate="tanh")
    return mlp.dropout(mlp.c_proj(activated))


_GELU_K = 2 * math.sqrt(2 / math.pi)  # 0.5 * (1 + tanh(z)) = sigmoid(2z)
_GELU_C = 0.044715


class _SigmoidTanhGelu(torch.autograd.Function):
    """GPT-2's GELU, x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), as x * sigmoid(2 * that
    argument), with its derivative written out. On a CPU each elementwise op is a pass over memory, so
    the polynomials are one ``addcmul`` each and the rest is in place: four passes forward, six backward
    (torch's tanh kernel: one each, but its vectorised tanh is slower than all of these together)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        # u = K * (x + C x^3) = x * (K + K C x^2); the gate is sigmoid(u)
        gate = torch.addcmul(x.new_full((), _GELU_K), x, x, value=_GELU_K * _GELU_C).mul_(x).sigmoid_()
        ctx.save_for_backward(x, gate)
        return x * gate

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        # d/dx x * s(u) = s * (1 + x * u' * (1 - s)), with u' = K * (1 + 3 C x^2)
        x, gate = ctx.saved_tensors
        slope = torch.addcmul(x.new_full((), _GELU_K), x, x, value=3 * _GELU_C * _GELU_K).mul_(x)  # x u'
        slope.addcmul_(slope, gate, value=-1).add_(1)  # 1 + x u' (1 - s)
        return slope.mul_(gate).mul_(grad)
