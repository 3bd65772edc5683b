"""One eval-mode, no-grad forward pass with eager attention, returning every layer's attention weights.

transformers 5's default SDPA kernels return no attention weights (``output_attentions=True`` gives
empty tuples, silently), so the probe switches the model to eager attention and switches it back.
"""

import dataclasses
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.inspect.head_scores import head_scores, repeated_random_tokens
from lit_gpt2.modeling.build import attention_implementation
from lit_gpt2.modeling.inference import inference_pass

# The watching callbacks' default probe: a scene heading, a cue, a parenthetical and two dialogue lines.
DEFAULT_PROBE_TEXT = "INT. DINER - NIGHT\n\nMARGO\n(quietly)\nKitchen closed at ten.\n\nDEAN\nI'm not hungry.\n"


@dataclass
class AttentionProbe:
    """Attention of every layer for a batch of probe texts (left-padded)."""

    texts: list[str]
    tokens: list[list[str]]  # each text's token strings, without padding
    attentions: tuple[torch.Tensor, ...]  # per layer: (batch, heads, T, T), on the CPU
    attention_mask: torch.Tensor  # (batch, T)


@contextmanager
def eager_attention(model: GPT2LMHeadModel):
    """Eager attention inside the block, the original implementation restored afterwards, even on error."""
    original = attention_implementation(model)
    if original != "eager":
        model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        if original != "eager":
            model.set_attn_implementation(original)  # type: ignore[arg-type]  # None: as it was, unset


def probe_attention(
    model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase, texts: list[str], prepend_eos: bool = True
) -> AttentionProbe:
    """Run the probe; ``prepend_eos`` starts each text with ``<|endoftext|>`` so the attention sink sits
    on the same token whatever the text (GPT-2 adds no BOS of its own)."""
    ids = [([tokenizer.eos_token_id] if prepend_eos else []) + row for row in tokenizer(texts)["input_ids"]]
    return dataclasses.replace(probe_token_ids(model, tokenizer, ids), texts=list(texts))


def probe_token_ids(model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase, ids: list[list[int]]) -> AttentionProbe:
    """The probe on token ids as given (e.g. the repeated random tokens of the head scores)."""
    device = next(model.parameters()).device
    limit = model.config.n_positions
    ids = [row[:limit] or [tokenizer.eos_token_id] for row in ids]
    batch = tokenizer.pad({"input_ids": ids}, padding=True, padding_side="left", return_tensors="pt").to(device)
    with inference_pass(model), eager_attention(model):  # eval mode: with dropout off, rows sum to 1
        out = model(**batch, output_attentions=True)
    tokens = [tokenizer.convert_ids_to_tokens(row) for row in ids]
    mask = batch["attention_mask"].cpu()
    # A padding query masks every key, so its softmax row is meaningless: zero it, keeping the rows of
    # real tokens (each a distribution over earlier real tokens) as the only non-zero ones.
    real_rows = mask[:, None, :, None].float()
    return AttentionProbe(
        texts=tokenizer.batch_decode(ids),
        tokens=[[tokenizer.convert_tokens_to_string([t]) for t in row] for row in tokens],
        attentions=tuple(a.float().cpu() * real_rows for a in out.attentions),
        attention_mask=mask,
    )


def probe_head_scores(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    length: int,
    candidates: Sequence[int] | None = None,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Every head's previous-token, duplicate-token and induction score (docs/head-scores.md) on
    ``length`` seeded random tokens repeated twice (shortened to fit the model's context), drawn from
    ``candidates`` (default: the whole vocabulary)."""
    length = min(length, (model.config.n_positions - 1) // 2)
    pool = range(len(tokenizer)) if candidates is None else candidates
    tokens = repeated_random_tokens(length, pool, tokenizer.eos_token_id, seed)
    probe = probe_token_ids(model, tokenizer, [tokens])
    return head_scores(probe.attentions, torch.tensor(tokens))
