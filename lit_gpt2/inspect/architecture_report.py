"""The architecture report that ``lit-gpt2 architecture`` prints and the architecture summary callback
logs: a GPT-2's component tree, parameter breakdown and cost per token, and a comparison with BERT,
BART, T5 and XLNet, each built on the meta device (nothing allocated or downloaded)."""

from collections.abc import Callable, Sequence
from dataclasses import asdict

import torch
from transformers import GPT2LMHeadModel, PretrainedConfig, PreTrainedModel

from lit_gpt2.errors import UserInputError
from lit_gpt2.evaluation.flops import cost_facts
from lit_gpt2.inspect.anatomy import module_tree, parameter_breakdown
from lit_gpt2.modeling.build import parameter_count

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


def comparison_rows(gpt2: GPT2LMHeadModel, others: Sequence[str]) -> list[dict[str, str]]:
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

    builders: dict[str, tuple[Callable[[], PretrainedConfig], type[PreTrainedModel]]] = {
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
    models: list[tuple[str, PreTrainedModel]] = [("gpt2", gpt2)]
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
                "parameters": f"{parameter_count(model):,}",
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


def describe(model: GPT2LMHeadModel, spec: str, compare: Sequence[str] = ()) -> tuple[str, dict]:
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
