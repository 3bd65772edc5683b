"""GPT-2 anatomy on the ``meta`` device: component tree, exact parameter breakdown, cost per token,
and a comparison with BERT, BART, T5 and XLNet. Meta tensors have shapes but no storage: nothing is
allocated or downloaded, so even gpt2-xl is described instantly."""

from dataclasses import asdict, dataclass

import torch
from torch import nn
from transformers import AutoConfig, GPT2Config, GPT2LMHeadModel

from lit_gpt2.errors import UserInputError
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


def count(module: nn.Module) -> int:
    """Parameters counted once each, so a tied LM head adds nothing to the embedding it shares."""
    return sum(p.numel() for p in {id(p): p for p in module.parameters()}.values())


def parameter_breakdown(model: GPT2LMHeadModel) -> list[tuple[str, int]]:
    """(component, parameters) rows that add up exactly to ``count(model)``."""
    t = model.transformer
    block = t.h[0]
    layers = len(t.h)
    rows = [
        ("token embedding (wte)", count(t.wte)),
        ("position embedding (wpe)", count(t.wpe)),
        (f"attention qkv (c_attn) x {layers}", layers * count(block.attn.c_attn)),
        (f"attention output projection (c_proj) x {layers}", layers * count(block.attn.c_proj)),
        (f"MLP up (c_fc) x {layers}", layers * count(block.mlp.c_fc)),
        (f"MLP down (c_proj) x {layers}", layers * count(block.mlp.c_proj)),
        (f"LayerNorms (ln_1, ln_2) x {layers}", layers * (count(block.ln_1) + count(block.ln_2))),
        ("final LayerNorm (ln_f)", count(t.ln_f)),
    ]
    tied = model.lm_head.weight is t.wte.weight
    if tied:
        rows.append(("LM head (tied to wte: counted once, above)", 0))
    else:
        rows.append(("LM head", count(model.lm_head)))
    return rows


@dataclass
class CostFacts:
    layers: int
    heads: int
    head_size: int
    d_model: int
    context: int
    vocab: int
    parameters: int
    matmul_parameters: int
    forward_flops_per_token: int
    training_flops_per_token: int
    kv_cache_bytes_per_token: int


def matmul_parameters(model: GPT2LMHeadModel) -> int:
    """N: the parameters that multiply each token (every block, ln_f, and the LM head, tied or not)."""
    c = model.config
    return sum(count(b) for b in model.transformer.h) + count(model.transformer.ln_f) + c.vocab_size * c.n_embd


def forward_flops_per_token(model: GPT2LMHeadModel, seq_len: int | None = None) -> int:
    """2N + 4 * layers * seq_len * d_model (QK^T and attention x V); seq_len defaults to the context."""
    c = model.config
    return 2 * matmul_parameters(model) + 4 * c.n_layer * (seq_len or c.n_positions) * c.n_embd


def cost_facts(model: GPT2LMHeadModel, kv_bytes_per_value: int = 2) -> CostFacts:
    """Per-token cost at full context.

    N = parameters that multiply each token (every block's weights and the LM head, tied or not;
    embedding lookups are free). Forward = 2N + 4 * layers * context * d_model (QK^T and attention x V);
    a training step = 3 x forward = 6N + 12 * layers * context * d_model (the PaLM MFU formula).
    KV cache = 2 (K and V) * layers * d_model values per token, at ``kv_bytes_per_value`` (2: bf16).
    """
    c = model.config
    forward = forward_flops_per_token(model)
    return CostFacts(
        layers=c.n_layer,
        heads=c.n_head,
        head_size=c.n_embd // c.n_head,
        d_model=c.n_embd,
        context=c.n_positions,
        vocab=c.vocab_size,
        parameters=count(model),
        matmul_parameters=matmul_parameters(model),
        forward_flops_per_token=forward,
        training_flops_per_token=3 * forward,
        kv_cache_bytes_per_token=2 * c.n_layer * c.n_embd * kv_bytes_per_value,
    )


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
    lines = [f"{'  ' * depth}{label}{type(module).__name__} ({count(module):,} params)"]
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


# Facts of each family that no config field states; parameters are counted from the meta model.
FAMILIES = {
    "gpt2": ("GPT-2", "decoder-only", "causal self", "learned absolute", "next-token prediction (causal LM)"),
    "bert": ("BERT base", "encoder-only", "bidirectional self", "learned absolute", "masked LM + next sentence"),
    "bart": (
        "BART large",
        "encoder-decoder",
        "bidirectional self, causal self, cross",
        "learned absolute",
        "denoising (text infilling, sentence permutation)",
    ),
    "t5": (
        "T5 small",
        "encoder-decoder",
        "bidirectional self, causal self, cross",
        "relative position bias",
        "span corruption (text-to-text)",
    ),
    "xlnet": (
        "XLNet base",
        "single stack, autoregressive (Transformer-XL)",
        "two-stream self (content and query streams), permutation-masked, over cached memory",
        "Transformer-XL relative encodings, segment recurrence (memory)",
        "permutation language modelling (autoregressive over a random factorisation order: both sides, no [MASK])",
    ),
}


# The families `lit-gpt2 architecture --compare` can set beside GPT-2.
COMPARABLE_FAMILIES: tuple[str, ...] = tuple(name for name in FAMILIES if name != "gpt2")


def comparison_rows(gpt2: GPT2LMHeadModel, others: list[str]) -> list[dict[str, str]]:
    """One row per model: GPT-2 first, then each of ``others`` (of ``COMPARABLE_FAMILIES``).

    Each is built on the meta device from a config made here, never downloaded: transformers' default
    config (BERT base, BART large, T5 small), except XLNet's default, which is xlnet-large-cased's size,
    so XLNet is given xlnet-base-cased's (12 layers, d_model 768, 12 heads, d_inner 3072, vocabulary 32,000).
    """
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BertConfig,
        BertForMaskedLM,
        T5Config,
        T5ForConditionalGeneration,
        XLNetConfig,
        XLNetLMHeadModel,
    )

    builders = {
        "bert": (BertConfig, BertForMaskedLM),
        "bart": (BartConfig, BartForConditionalGeneration),
        "t5": (T5Config, T5ForConditionalGeneration),
        "xlnet": (
            lambda: XLNetConfig(n_layer=12, d_model=768, n_head=12, d_inner=3072, vocab_size=32000),
            XLNetLMHeadModel,
        ),
    }
    unknown = [name for name in others if name not in COMPARABLE_FAMILIES]
    if unknown:
        raise UserInputError(f"can compare with {', '.join(COMPARABLE_FAMILIES)}; unknown: {', '.join(unknown)}")
    models = [("gpt2", gpt2)]
    for name in others:
        make_config, model_class = builders[name]
        with torch.device("meta"):
            models.append((name, model_class(make_config())))
    rows = []
    for key, model in models:
        title, family, attention, positions, objective = FAMILIES[key]
        c = model.config
        if c.is_encoder_decoder:
            encoder = getattr(c, "encoder_layers", None) or c.num_layers
            decoder = getattr(c, "decoder_layers", None) or c.num_decoder_layers
            layers = f"{encoder} + {decoder}"
        else:
            layers = str(c.num_hidden_layers)
        rows.append(
            {
                "model": f"{title} ({type(model).__name__})",
                "family": family,
                "attention": attention,
                "positions": positions,
                "objective": objective,
                "layers": layers,
                "d_model": str(getattr(c, "hidden_size", None) or getattr(c, "d_model", None)),
                "parameters": f"{count(model):,}",
            }
        )
    return rows


# Read from the comparison table's columns: family, attention kinds, objective and size.
TRADE_OFFS = """\
- **GPT-2 (decoder-only, causal self-attention, next-token objective)**: every position is trained
  as a prediction, and generation is the training task itself, so it writes fluent continuations
  with no extra head; but each token sees only its left context, which costs it on tasks that need
  the whole input at once (classification, extraction), and its KV cache grows with every token written.
- **BERT (encoder-only, bidirectional self-attention, masked LM)**: each token sees both sides, which
  makes strong representations for understanding tasks at a similar size to GPT-2 small; but only
  the ~15% masked tokens give a training signal, and it has no decoder, so it cannot generate text
  left to right.
- **BART and T5 (encoder-decoder, with cross-attention)**: a bidirectional encoder reads the input and a
  causal decoder writes the output while attending to it, which suits input-to-output tasks
  (summarisation, translation, rewriting); the price is two stacks and an extra attention kind per
  decoder layer (BART large has about 3x GPT-2 small's parameters), and a denoising or span-corruption
  objective that is less direct for free-running story generation. T5's relative position bias,
  unlike GPT-2's and BART's learned absolute positions, is not tied to a fixed table of positions.
- **XLNet (single stack, permutation language modelling)**: like GPT-2 it predicts each token from the
  ones before it, but before it in a random factorisation order, so over many orders each token is
  predicted from context on both sides without BERT's [MASK] tokens (no mismatch between pre-training
  and fine-tuning, and the predicted tokens are not assumed independent of each other). The price is
  two-stream attention (a query stream that knows a position but not its token, beside the content
  stream) and an objective so hard to fit that only the last tokens of each order are predicted
  (partial prediction); Transformer-XL's relative encodings and segment recurrence (a cached memory of
  the previous segment) let it read past one window, at the cost of more attention parameters per
  layer than GPT-2 (a fifth projection, for the relative positions).
"""


def describe(model: GPT2LMHeadModel, spec: str, compare: list[str] = ()) -> tuple[str, dict]:
    """The markdown report on ``model`` (named ``spec``) and the same facts as plain data."""
    breakdown = parameter_breakdown(model)
    facts = cost_facts(model)
    total = facts.parameters
    lines = [f"# Architecture: {spec}", "", "## Components", "", "```", *module_tree(model), "```", ""]
    lines += ["## Parameters", "", "| component | parameters | share |", "|---|---|---|"]
    lines += [f"| {name} | {n:,} | {n / total:.1%} |" for name, n in breakdown]
    lines += [f"| **total** | **{total:,}** | |", ""]
    lines += [
        "## Shape and cost per token",
        "",
        f"- layers {facts.layers}, heads {facts.heads}, head size {facts.head_size}, d_model {facts.d_model}, "
        f"context {facts.context}, vocabulary {facts.vocab:,}",
        f"- FLOPs per token, forward: {facts.forward_flops_per_token:,} = 2N + 4 x layers x context x d_model, "
        f"with N = {facts.matmul_parameters:,} parameters that multiply each token (blocks and LM head; "
        "embedding lookups are free) and the attention term at full context",
        f"- FLOPs per token, training step: {facts.training_flops_per_token:,} = 3 x forward "
        "(6N + 12 x layers x context x d_model)",
        f"- KV cache: {facts.kv_cache_bytes_per_token:,} bytes per token in bf16 (2 x layers x d_model x 2 bytes)",
        "",
    ]
    data = {"model": spec, "parameters": dict(breakdown), "total": total, "cost": asdict(facts)}
    if compare:
        rows = comparison_rows(model, compare)
        columns = list(rows[0])
        lines += ["## Compared with other transformer families", ""]
        lines += ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
        lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
        lines += [
            "",
            "Parameters counted on transformers' default configs, XLNet at xlnet-base-cased's size (tied "
            "weights once).",
            "",
            TRADE_OFFS,
        ]
        data["comparison"] = rows
    return "\n".join(lines), data
